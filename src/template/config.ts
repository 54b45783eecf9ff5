/**
 * Where templates are configured: `--template SRC=DEST` (repeatable, LATCHKEY_TEMPLATE
 * comma-separated) for the common case, and the config file's `templates:` list when a
 * template needs its own owner, mode or action:
 *
 *   templates:
 *     - source: /etc/latchkey/nginx.conf.liquid
 *       destination: /etc/nginx/conf.d/site.conf
 *       action: signal:HUP          # default: --on-change
 *       mode: "0440"                # default: 0400
 *       owner: root:nginx           # default: the --user app user
 *
 * Registration is data only: liquidjs is not loaded until a template is compiled.
 */
import { basename, dirname } from "node:path";
import { registerFlags, registerGroup, type FlagDef } from "../cli/flags.ts";
import { registerSection, section } from "../config/sections.ts";
import { invalid, type Settings } from "../config/settings.ts";
import { checkKeys, expectObject, expectString, type FieldPath } from "../config/validate.ts";
import { configError } from "../errors.ts";
import { parseAction, type Action } from "../watch/options.ts";
import { systemDirProblem } from "../fileset/system-dirs.ts";

export interface TemplateSpec {
  /** Absolute path of the Liquid source. */
  source: string;
  /** Absolute path the app reads (a link into DIR/..data, see src/fileset/writer.ts). */
  destination: string;
  /** USER[:GROUP] owning the file; default: the --user app user (root without --user). */
  owner?: string;
  /** Permission bits; default 0400. */
  mode?: number;
  /** What a change of this template's output does; default: --on-change. */
  action?: Action;
  /** Where it was configured, for messages: `--template`, `latchkey.yaml: templates[0]`. */
  origin: string;
}

const TEMPLATE_FLAGS: FlagDef[] = [
  { name: "template-only", type: "string", multiple: true, env: "LATCHKEY_TEMPLATE_ONLY", value: "NAME", group: "rotation",
    help: "keep variable NAME out of the app's environment: only templates see it (a private key the app reads from its file; repeatable)" },
  { name: "template", type: "string", multiple: true, env: "LATCHKEY_TEMPLATE", value: "SRC=DEST", group: "rotation",
    help: "render the Liquid template SRC with the app's variables into DEST (0400, app user, switched atomically), again when a variable it reads changes (repeatable; owner/mode/action per template in the config file's templates:)" },
];

/**
 * src/fileset/writer.ts's fileName(), which checks again when writing: one file in DEST's
 * directory, not a name of the `..data` layout. Repeated here so that registering the flag
 * does not load the writer.
 */
const FILE_NAME = /^(?!\.\.)(?!\.$)[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

const ACTION_HINT = "expected restart, none, or signal:NAME (e.g. signal:HUP)";

let done = false;
export function registerTemplates(): void {
  if (done) return;
  done = true;
  registerGroup("rotation", "Rotation (supervise mode)");
  registerFlags(TEMPLATE_FLAGS);
  registerSection<TemplateSpec[]>("templates", {
    help: "templates rendered into files: source, destination, and optional owner, mode and action each",
    validate(value, at) {
      if (!Array.isArray(value)) throw at.fail(value, "expected a list of templates (- source: ..., destination: ...)");
      return value.map((v, i) => templateEntry(v, at.child(i)));
    },
  });
}

function templateEntry(v: unknown, at: FieldPath): TemplateSpec {
  const o = expectObject(v, at);
  checkKeys(o, ["source", "destination", "owner", "mode", "action"], at);
  if (o.source === undefined) throw at.child("source").fail(undefined, "expected the template's absolute path");
  if (o.destination === undefined) throw at.child("destination").fail(undefined, "expected the rendered file's absolute path");
  const source = expectString(o.source, at.child("source"));
  if (!source.startsWith("/")) throw at.child("source").fail(source, "expected an absolute path");
  const destination = expectString(o.destination, at.child("destination"));
  const bad = destinationProblem(destination);
  if (bad) throw at.child("destination").fail(destination, bad);
  const spec: TemplateSpec = { source, destination, origin: `${at}` };
  if (o.owner !== undefined) {
    const owner = expectString(o.owner, at.child("owner"));
    if (!/^[^:\s]+(:[^:\s]+)?$/.test(owner)) throw at.child("owner").fail(o.owner, "expected USER, UID, USER:GROUP or UID:GID");
    spec.owner = owner;
  }
  if (o.mode !== undefined) {
    const mode = parseMode(o.mode);
    if (mode === null) throw at.child("mode").fail(o.mode, "expected octal permission bits without group or other write, such as \"0400\", \"0440\" or \"0600\"");
    spec.mode = mode;
  }
  if (o.action !== undefined) {
    const raw = expectString(o.action, at.child("action"));
    const action = parseAction(raw);
    if (!action) throw at.child("action").fail(raw, ACTION_HINT);
    spec.action = action;
  }
  return spec;
}

/** Why DEST is not a file the writer can place, or null. */
function destinationProblem(dest: string): string | null {
  if (!dest.startsWith("/")) return "expected an absolute path";
  if (dest.endsWith("/")) return "expected a file path, not a directory";
  if (dirname(dest) === dest) return "expected a file path, not /";
  if (!FILE_NAME.test(basename(dest))) return "the file name must be letters, digits, '_', '.', '-' (not starting with '..')";
  if (dest.split("/").some((p) => p === "." || p === "..")) return "expected a path without . or .. components";
  // The file set (..data, links) goes into the destination's directory: never / or /etc.
  return systemDirProblem(dirname(dest));
}

/**
 * "0440", "440", "0o440", or a YAML number written 0440 (YAML 1.2 reads it as decimal 440: its
 * digits are taken as octal). Group or other write is refused: the file is replaced on
 * rotation, and nobody but its owner has a reason to change it.
 */
export function parseMode(raw: unknown): number | null {
  let digits: string;
  if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0) digits = String(raw);
  else if (typeof raw === "string") digits = raw.trim().replace(/^0o/i, "");
  else return null;
  if (!/^[0-7]{1,4}$/.test(digits)) return null;
  const mode = parseInt(digits, 8);
  if (mode > 0o777 || (mode & 0o022) !== 0) return null;
  return mode;
}

/** --template-only: variables templates see and the app's environment does not. */
export function templateOnly(s: Settings): string[] {
  const names = s.list("template-only");
  const origin = s.origin("template-only");
  for (const n of names) if (origin && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw invalid(origin, n, "expected a variable name");
  return names;
}

/** Every configured template: the flag's (and env var's) first, then the config file's; one destination once. */
export function templateSpecs(s: Settings): TemplateSpec[] {
  const specs: TemplateSpec[] = [];
  const origin = s.origin("template");
  for (const raw of s.list("template")) {
    const eq = raw.indexOf("=");
    const src = eq === -1 ? "" : raw.slice(0, eq);
    const dest = eq === -1 ? "" : raw.slice(eq + 1);
    if (!origin) break;
    if (eq === -1 || src === "" || dest === "") throw invalid(origin, raw, "expected SRC=DEST (two absolute paths)");
    if (!src.startsWith("/")) throw invalid(origin, raw, "SRC must be an absolute path");
    const bad = destinationProblem(dest);
    if (bad) throw invalid(origin, raw, `DEST: ${bad}`);
    specs.push({ source: src, destination: dest, origin: origin.label });
  }
  specs.push(...(section<TemplateSpec[]>("templates") ?? []));
  const seen = new Map<string, string>();
  for (const t of specs) {
    const first = seen.get(t.destination);
    if (first) throw configError(`${t.origin}: destination ${t.destination} is also the destination of ${first}: one file, one template`);
    seen.set(t.destination, t.origin);
  }
  return specs;
}
