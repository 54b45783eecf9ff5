/**
 * Descriptor-relative file operations for src/fileset/: thin wrappers over the *at() calls of
 * platform/libc.ts that throw a FileSetError naming the path, instead of returning -1.
 *
 * Without node:ffi (dist/latchkey.cjs run without --experimental-ffi) there is no way to
 * operate relative to a directory descriptor, and falling back to path operations would be
 * the race this module exists to prevent: requireCalls() fails closed instead.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, type Stats } from "node:fs";
import { AT_REMOVEDIR, fileCalls, libcLoadError, O_CLOEXEC, O_PATH, type FileCalls } from "../platform/libc.ts";
import { os } from "../platform/lazy.ts";

export { O_PATH };

/** A failed operation or a refusal; `errno` is the code ("ENOSPC"), or "REFUSED" for a refusal. */
export class FileSetError extends Error {
  readonly path: string;
  readonly errno: string;

  constructor(path: string, errno: string, message: string) {
    super(message);
    this.path = path;
    this.errno = errno;
  }

  get refused(): boolean {
    return this.errno === "REFUSED" || this.errno === "EACCES" || this.errno === "EPERM";
  }
}

export function refuse(path: string, why: string): FileSetError {
  return new FileSetError(path, "REFUSED", `${path}: ${why}`);
}

let calls: FileCalls | undefined;

/** The *at() calls, or a FileSetError: never a silent fallback to paths. */
export function requireCalls(what: string): FileCalls {
  if (calls) return calls;
  const c = fileCalls();
  if (!c) {
    const why = libcLoadError() ?? "node:ffi is not available";
    throw new FileSetError(what, "ENOSYS",
      `${what}: writing files where another user can write needs descriptor-relative system calls, and node:ffi is unavailable (${why}); run the single executable, or node with --experimental-ffi`);
  }
  return (calls = c);
}

export function errnoName(n: number): string {
  const table = os().constants.errno as Record<string, number>;
  for (const [k, v] of Object.entries(table)) if (v === n) return k;
  return `errno ${n}`;
}

/** Throws a FileSetError for a -1 result (errno read at once, before anything else can clobber it). */
function check(c: FileCalls, r: number, path: string): number {
  if (r >= 0) return r;
  const code = errnoName(c.errno());
  throw new FileSetError(path, code, `${path}: ${code}`);
}

export const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC;
export const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC;
/** Reading a file someone else may have put there: no symlink, no blocking on a FIFO. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | O_CLOEXEC;

/** openat(2); the descriptor, or a FileSetError (its errno is the kernel's). */
export function openAt(c: FileCalls, dirfd: number, name: string, flags: number, mode: number, path: string): number {
  return check(c, c.openat(dirfd, name, flags, mode), path);
}

/** openat(2), or null when `name` does not exist. */
export function openAtIfExists(c: FileCalls, dirfd: number, name: string, flags: number, path: string): number | null {
  const r = c.openat(dirfd, name, flags, 0);
  if (r >= 0) return r;
  const code = errnoName(c.errno());
  if (code === "ENOENT") return null;
  throw new FileSetError(path, code, `${path}: ${code}`);
}

export function mkdirAt(c: FileCalls, dirfd: number, name: string, mode: number, path: string): void {
  check(c, c.mkdirat(dirfd, name, mode), path);
}

export function renameAt(c: FileCalls, dirfd: number, from: string, to: string, path: string): void {
  check(c, c.renameat(dirfd, from, dirfd, to), path);
}

export function symlinkAt(c: FileCalls, target: string, dirfd: number, name: string, path: string): void {
  check(c, c.symlinkat(target, dirfd, name), path);
}

/** unlinkat(2); a name already gone is not an error. */
export function unlinkAt(c: FileCalls, dirfd: number, name: string, dir: boolean, path: string): void {
  if (c.unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0) >= 0) return;
  const code = errnoName(c.errno());
  if (code !== "ENOENT") throw new FileSetError(path, code, `${path}: ${code}`);
}

/** The target of the symlink `name` in `dirfd` ("" with an O_PATH descriptor: that link), or null if it is not a symlink or absent. */
export function readLinkAt(c: FileCalls, dirfd: number, name: string, path: string): string | null {
  const buf = Buffer.alloc(4096);
  const n = c.readlinkat(dirfd, name, buf);
  if (n >= 0) return buf.subarray(0, n).toString("utf8");
  const code = errnoName(c.errno());
  if (code === "EINVAL" || code === "ENOENT") return null;
  throw new FileSetError(path, code, `${path}: ${code}`);
}

export function fstat(fd: number, path: string): Stats {
  try {
    return fstatSync(fd);
  } catch (e) {
    throw fromNode(e, path);
  }
}

export function openRoot(): number {
  return openSync("/", DIR_FLAGS);
}

/**
 * The names in an open directory. Through /proc/self/fd/N: the kernel resolves that magic link
 * to the open directory itself (not by re-walking a path), so this lists exactly what `fd` is,
 * as fdopendir(3) would. null when /proc is not mounted.
 */
export function listDir(fd: number): string[] | null {
  try {
    return readdirSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

export function close(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}

/** A Node fs error (fchown, write...) as a FileSetError naming `path`. */
export function fromNode(e: unknown, path: string): FileSetError {
  if (e instanceof FileSetError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new FileSetError(path, code, `${path}: ${code}`);
}
