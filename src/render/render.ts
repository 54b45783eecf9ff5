/**
 * `--render DIR`: every secret also written as DIR/NAME, for apps that re-read files on a
 * reload signal (nginx, HAProxy, PgBouncer...) instead of needing a restart for a new env.
 *
 * The files are a file set (src/fileset/writer.ts): DIR/NAME is a symlink into DIR/..data, the
 * whole set is switched at once, each file 0400 owned by the app user, written on descriptors
 * only (the app may own DIR). DIR should be a tmpfs (`--tmpfs /run/app-secrets` in Docker, an
 * emptyDir with medium: Memory in Kubernetes) so that secrets never reach a disk.
 */
import { ExitCode, LatchkeyError } from "../errors.ts";
import { fileName, FileSetError, FileSetWriter, type Owner } from "../fileset/writer.ts";

export type { Owner };

/** A variable name is a safe file name; anything else (/, .., NUL, a leading dot) is refused. */
export function renderableName(name: string): boolean {
  return fileName(name);
}

export class Renderer {
  readonly dir: string;
  readonly #writer: FileSetWriter;

  constructor(dir: string, owner?: Owner) {
    this.dir = dir;
    this.#writer = new FileSetWriter({ dir, label: "--render", ...(owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}) });
  }

  /** Write every secret as the new set; names that are gone disappear. Throws LatchkeyError naming the path at fault. */
  render(secrets: Readonly<Record<string, string>>): { written: number; removed: number } {
    const files = Object.entries(secrets).filter(([name]) => renderableName(name)).map(([name, data]) => ({ name, data }));
    try {
      return this.#writer.write(files);
    } catch (e) {
      throw renderError(this.dir, e);
    }
  }

  /** The app never started: remove what this run rendered (best effort, never throws). */
  remove(): void {
    try {
      this.#writer.remove();
    } catch {
      // nothing more can be done; the error that ended the start is the one to report
    }
  }
}

function renderError(dir: string, e: unknown): LatchkeyError {
  if (e instanceof FileSetError) {
    const msg = e.errno === "ENOSYS" ? e.message : e.errno === "REFUSED" ? `--render: ${e.message}` : `--render: cannot write ${e.path}: ${e.errno}`;
    return new LatchkeyError("render", e.refused ? ExitCode.NO_PERM : ExitCode.OS, msg);
  }
  const code = (e as NodeJS.ErrnoException).code;
  const exit = code === "EACCES" || code === "EPERM" ? ExitCode.NO_PERM : ExitCode.OS;
  return new LatchkeyError("render", exit, `--render: cannot write ${dir}: ${code ?? (e as Error).message}`);
}
