/**
 * `--render DIR`: every secret also written as DIR/NAME, for apps that re-read files on a
 * reload signal (nginx, HAProxy, PgBouncer...) instead of needing a restart for a new env.
 *
 * Each file is written whole to a temporary name in the same directory, fsync'd, given mode
 * 0400 and the app user's ownership, and renamed over the old one: a reader sees the old
 * content or the new, never a torn or empty file (rename is atomic within a filesystem). DIR
 * should be a tmpfs (`--tmpfs /run/app-secrets` in Docker, an emptyDir with medium: Memory
 * in Kubernetes) so that secrets never reach a disk.
 */
import { chownSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, writeSync, chmodSync, statSync } from "node:fs";
import { join } from "node:path";
import { crypto } from "../platform/lazy.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";

export interface Owner {
  uid: number;
  gid: number;
}

/** A variable name is a safe file name; anything else (/, .., NUL) is refused. */
export function renderableName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) && name !== "." && name !== "..";
}

export class Renderer {
  readonly dir: string;
  readonly #owner: Owner | undefined;
  #written = new Set<string>();

  constructor(dir: string, owner?: Owner) {
    this.dir = dir;
    this.#owner = owner;
  }

  /** Write every secret; remove the files of secrets that are gone. Throws LatchkeyError (OS) with the path at fault. */
  render(secrets: Readonly<Record<string, string>>): { written: number; removed: number } {
    this.#ensureDir();
    let written = 0;
    const now = new Set<string>();
    for (const [name, value] of Object.entries(secrets)) {
      if (!renderableName(name)) continue;
      this.#writeAtomic(name, value);
      now.add(name);
      written++;
    }
    let removed = 0;
    for (const old of this.#written) {
      if (now.has(old)) continue;
      try {
        unlinkSync(join(this.dir, old));
        removed++;
      } catch {
        // already gone
      }
    }
    this.#written = now;
    return { written, removed };
  }

  #ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const st = statSync(this.dir);
      if (!st.isDirectory()) throw new Error("not a directory");
      // The app user must be able to list and read; nobody else.
      if (this.#owner && process.getuid?.() === 0) chownSync(this.dir, this.#owner.uid, this.#owner.gid);
      chmodSync(this.dir, 0o700);
    } catch (e) {
      throw renderError(this.dir, e);
    }
  }

  #writeAtomic(name: string, value: string): void {
    const final = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.${crypto().randomBytes(6).toString("hex")}.tmp`);
    let fd = -1;
    try {
      fd = openSync(tmp, "wx", 0o600);
      const buf = Buffer.from(value, "utf8");
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      if (this.#owner && process.getuid?.() === 0) chownSync(tmp, this.#owner.uid, this.#owner.gid);
      chmodSync(tmp, 0o400);
      renameSync(tmp, final);
    } catch (e) {
      if (fd !== -1) closeSync(fd);
      rmSync(tmp, { force: true });
      throw renderError(final, e);
    }
  }
}

function renderError(path: string, e: unknown): LatchkeyError {
  const code = (e as NodeJS.ErrnoException).code;
  const exit = code === "EACCES" || code === "EPERM" ? ExitCode.NO_PERM : ExitCode.OS;
  return new LatchkeyError("render", exit, `--render: cannot write ${path}: ${code ?? (e as Error).message}`);
}
