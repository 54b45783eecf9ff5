/**
 * Reading one secret file: regular files only (a FIFO would block startup forever), a size
 * cap checked before reading, and errors that name the file and the uid latchkey runs as
 * (the usual cause of EACCES is a secret mounted for another user).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../../errors.ts";

export interface ReadFile {
  bytes: Buffer;
  /** inode, size and mtime: changes when the file is replaced or rewritten. */
  version: string;
}

export function readSecretFile(path: string, maxSize: number, what = `secret file ${path}`): ReadFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw fileError(e, path, what);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} is a directory, not a file`);
    if (!st.isFile()) throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} is not a regular file`);
    if (st.size > maxSize) {
      throw new LatchkeyError("data", ExitCode.DATA, `${what} is too large: ${st.size} bytes, limit ${maxSize} (--max-size)`);
    }
    // Regular files: read what fstat announced, no extra read for EOF (one syscall fewer per
    // file counts with a thousand secrets). Files that report size 0 (procfs-like) are read to EOF.
    const buf = Buffer.allocUnsafe(st.size > 0 ? st.size : maxSize + 1);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > maxSize) throw new LatchkeyError("data", ExitCode.DATA, `${what} is too large: over ${maxSize} bytes (--max-size)`);
    return { bytes: buf.subarray(0, n), version: `${st.ino}:${st.size}:${st.mtimeMs}` };
  } catch (e) {
    if (e instanceof LatchkeyError) throw e;
    throw fileError(e, path, what);
  } finally {
    closeSync(fd);
  }
}

let scratch = Buffer.allocUnsafe(0);

/**
 * The read of a file that readdir reported as regular (d_type): open, read, close, and no
 * fstat (with a thousand secrets: a thousand syscalls and Stats objects fewer, measured
 * ~3 ms here). O_NONBLOCK keeps a FIFO swapped in since the listing from blocking startup;
 * a directory fails with EISDIR and anything larger than `maxSize` as too large, as
 * fstat's checks would have. `what` is built only for an error message.
 */
export function readListedFile(path: string, maxSize: number, what: () => string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fileError(e, path, what());
  }
  try {
    if (scratch.length < maxSize + 1) scratch = Buffer.allocUnsafe(maxSize + 1);
    let n = 0;
    while (n < maxSize + 1) {
      const r = readSync(fd, scratch, n, maxSize + 1 - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > maxSize) {
      const size = fstatSync(fd).size; // only now: the message gives the real size
      throw new LatchkeyError("data", ExitCode.DATA, size > maxSize
        ? `${what()} is too large: ${size} bytes, limit ${maxSize} (--max-size)`
        : `${what()} is too large: over ${maxSize} bytes (--max-size)`);
    }
    return Buffer.from(scratch.subarray(0, n)); // a copy: the scratch buffer is reused
  } catch (e) {
    if (e instanceof LatchkeyError) throw e;
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what()} is not a regular file`);
    throw fileError(e, path, what());
  } finally {
    closeSync(fd);
  }
}

export function fileError(e: unknown, path: string, what: string): LatchkeyError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} does not exist`);
  if (code === "EACCES" || code === "EPERM") {
    return new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `${what}: permission denied (latchkey runs as uid ${process.getuid?.()} gid ${process.getgid?.()})`);
  }
  if (code === "EISDIR") return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} is a directory, not a file`);
  if (code === "ELOOP") return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what}: too many levels of symbolic links`);
  return new LatchkeyError("os", ExitCode.OS, `${what}: cannot read: ${code ?? (e as Error).message}`);
}
