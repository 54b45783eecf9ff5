/**
 * Templates as outputs: each configured template compiled once, rendered in memory from the
 * app's variables, and written through the file-set writer (src/fileset/writer.ts) — never by a
 * path of its own. Templates whose destinations share a directory share one writer, because a
 * directory holds one `..data` set: two writers there would each remove the other's set.
 *
 * Rendering and writing are two steps so that rotation can reject a candidate set whose
 * template fails (a variable removed) before anything is applied, and so that only templates
 * whose *output* changed are rewritten and have their action run.
 */
import { basename, dirname, normalize } from "node:path";
import { ExitCode, LatchkeyError } from "../errors.ts";
import { FileSetError, FileSetWriter, type FileSpec, type Owner } from "../fileset/writer.ts";
import type { Identity } from "../privileges/identity.ts";
import { readUnplanted } from "../sources/file/read.ts";
import type { Action } from "../watch/options.ts";
import type { TemplateSpec } from "./config.ts";
import { compileTemplate, PARSE_LIMIT, type CompiledTemplate } from "./engine.ts";

export interface TemplateOutput {
  readonly destination: string;
  readonly dir: string;
  readonly name: string;
  readonly compiled: CompiledTemplate;
  readonly owner?: Owner;
  readonly mode: number;
  readonly action: Action;
}

/** The outcome of rendering every template for one set of variables, not yet written. */
export interface RenderedTemplates {
  /** Templates whose output differs from what is in place (all of them before the first write). */
  readonly changed: readonly TemplateOutput[];
  /** Every top-level variable some template reads. */
  readonly reads: ReadonlySet<string>;
  /** Write the changed templates' directories, each as one atomic set. Throws LatchkeyError. */
  commit(): void;
}

export interface TemplateOptions {
  /** The --user app user: owns each template's file unless it names an owner of its own. */
  identity?: Identity;
  /** --on-change: the action of a template that names none. */
  defaultAction: Action;
  /** --render DIR: a template may not write into it (one set per directory). */
  renderDir?: string;
  /** Resolves a template's `owner:` (privileges/identity.ts's resolveIdentity). */
  resolveOwner(spec: string): Owner;
}

export class TemplateOutputs {
  readonly outputs: readonly TemplateOutput[];
  readonly #writers = new Map<string, FileSetWriter>();
  /** What is in place, per template: a render equal to it is no change. */
  readonly #inPlace = new Map<TemplateOutput, Buffer>();
  readonly #reads: ReadonlySet<string>;

  constructor(specs: readonly TemplateSpec[], o: TemplateOptions) {
    const appOwner = o.identity ? { uid: o.identity.uid, gid: o.identity.gid } : undefined;
    this.outputs = specs.map((s) => {
      // normalize: `DIR//b` is DIR (`.` and `..` are refused when parsed); the writers are grouped by this
      const dir = stripSlash(dirname(normalize(s.destination)));
      if (o.renderDir !== undefined && stripSlash(normalize(o.renderDir)) === dir) {
        throw new LatchkeyError("config", ExitCode.CONFIG, `${s.origin}: destination ${s.destination} is in the --render directory ${o.renderDir}: give templates a directory of their own`);
      }
      let owner = appOwner;
      if (s.owner !== undefined) {
        try {
          owner = o.resolveOwner(s.owner);
        } catch (e) {
          const why = e instanceof Error ? e.message.replace(/^--user: /, "") : String(e);
          throw new LatchkeyError("no_user", ExitCode.NO_USER, `${s.origin}: owner: ${why}`);
        }
      }
      return {
        destination: s.destination, dir, name: basename(s.destination),
        compiled: compileTemplate(readSource(s.source), s.source),
        ...(owner ? { owner } : {}),
        mode: s.mode ?? 0o400,
        action: s.action ?? o.defaultAction,
      };
    });
    for (const out of this.outputs) {
      if (!this.#writers.has(out.dir)) {
        this.#writers.set(out.dir, new FileSetWriter({ dir: out.dir, label: "--template", ...(appOwner ? { owner: appOwner } : {}) }));
      }
    }
    this.#reads = new Set(this.outputs.flatMap((t) => [...t.compiled.reads]));
  }

  /** Render every template for these variables (in memory). Throws LatchkeyError (CONFIG) naming template, line and variable. */
  render(scope: Readonly<Record<string, string>>): RenderedTemplates {
    const bytes = new Map<TemplateOutput, Buffer>();
    for (const t of this.outputs) bytes.set(t, t.compiled.render(scope));
    const changed = this.outputs.filter((t) => !this.#inPlace.get(t)?.equals(bytes.get(t)!));
    return { changed, reads: this.#reads, commit: () => this.#write(bytes, changed) };
  }

  #write(bytes: ReadonlyMap<TemplateOutput, Buffer>, changed: readonly TemplateOutput[]): void {
    const dirs = new Set(changed.map((t) => t.dir));
    for (const dir of dirs) {
      // The whole directory's set: a set switched in replaces the previous one entirely.
      const members = this.outputs.filter((t) => t.dir === dir);
      const files: FileSpec[] = members.map((t) => ({ name: t.name, data: bytes.get(t)!, mode: t.mode, ...(t.owner ? { owner: t.owner } : {}) }));
      try {
        this.#writers.get(dir)!.write(files);
      } catch (e) {
        throw writeError(dir, e);
      }
      for (const t of members) this.#inPlace.set(t, bytes.get(t)!);
    }
  }

  /** The app never started: remove what was written (best effort, never throws). */
  remove(): void {
    for (const w of this.#writers.values()) {
      try {
        w.remove();
      } catch {
        // the error that ended the start is the one to report
      }
    }
    this.#inPlace.clear();
  }
}

/**
 * The source is read as root and its rendering goes to the app: a source the app user can
 * replace (templates shipped with `COPY --chown=app`) must not be a way to read a root file.
 * So it is read by readUnplanted.
 */
function readSource(path: string): string {
  const { bytes } = readUnplanted(path, PARSE_LIMIT, `template ${path}`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new LatchkeyError("config", ExitCode.CONFIG, `template ${path}: not valid UTF-8`);
  }
}

function stripSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

function writeError(dir: string, e: unknown): LatchkeyError {
  if (e instanceof LatchkeyError) return e;
  if (e instanceof FileSetError) {
    const msg = e.errno === "REFUSED" || e.errno === "ENOSYS" ? `--template: ${e.message}` : `--template: cannot write ${e.path}: ${e.errno}`;
    return new LatchkeyError("template", e.refused ? ExitCode.NO_PERM : ExitCode.OS, msg);
  }
  const code = (e as NodeJS.ErrnoException).code;
  return new LatchkeyError("template", code === "EACCES" || code === "EPERM" ? ExitCode.NO_PERM : ExitCode.OS, `--template: cannot write ${dir}: ${code ?? (e as Error).message}`);
}
