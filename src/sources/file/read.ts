/**
 * Every file latchkey reads goes through here: secret files, NAME_FILE, --dotenv, --config,
 * --policy and the platform policy, Vault's token/role/CA files, the health probe's CA file,
 * /etc/passwd and /etc/group.
 *
 * Open with O_NONBLOCK, then fstat the descriptor: only a regular file is read. A FIFO opened
 * for reading without O_NONBLOCK blocks in open(2) until a writer comes, and the open runs on
 * the main thread, so nothing else runs, not even the SIGTERM handler (issue 12, finding 8).
 * A character device (/proc/kmsg, a tty) could block in read(2) the same way. O_NONBLOCK has
 * no effect on a regular file's reads. Errors name the file and the uid latchkey runs as (the
 * usual cause of EACCES is a secret mounted for another user).
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from "node:fs";
import { ExitCode, LatchkeyError } from "../../errors.ts";
import { FileSetError, READ_FLAGS, requireCalls } from "../../fileset/at.ts";
import { openFile } from "../../fileset/walk.ts";

export interface ReadFile {
  bytes: Buffer;
  /** inode, size and mtime: changes when the file is replaced or rewritten. */
  version: string;
}

// libuv adds O_CLOEXEC to every open: no descriptor crosses into the app.
const OPEN = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * A failure of readRegularFile: `code` is the errno name, ENOTREG (not a regular file, `kind`
 * says what it is) or EFBIG (over the size limit). Callers turn it into their own message.
 */
export class FileReadError extends Error {
  readonly code: string;
  readonly size: number | undefined;

  constructor(code: string, message: string, size?: number) {
    super(message);
    this.code = code;
    this.size = size;
  }
}

export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * The one reader: open non-blocking, fstat, regular files only, at most `maxSize` bytes.
 * `noFollow`: a symlink as the last component fails with ELOOP. `expect`: the identity the
 * caller checked (a real path, see readCheckedFile) — the open file must be that file.
 * `open`: the caller opens the file itself (on descriptors, see template/outputs.ts) with
 * O_NONBLOCK; the descriptor is this function's to close.
 * Throws FileReadError (or Node's errno error from open/read) — nothing else.
 */
export function readRegularFile(path: string, maxSize: number, opts: { noFollow?: boolean; expect?: (fd: number, st: Stats) => void; open?: () => number } = {}): { bytes: Buffer; st: Stats } {
  const fd = opts.open ? opts.open() : openSync(path, opts.noFollow ? OPEN | constants.O_NOFOLLOW : OPEN);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new FileReadError("EISDIR", "is a directory, not a file");
    if (!st.isFile()) throw new FileReadError("ENOTREG", `is ${fileKind(st)}, not a regular file`);
    opts.expect?.(fd, st);
    if (st.size > maxSize) throw new FileReadError("EFBIG", `is too large: ${st.size} bytes, limit ${maxSize}`, st.size);
    // Regular files: read what fstat announced, no extra read for EOF (one syscall fewer per
    // file counts with a thousand secrets). Files that report size 0 (procfs-like) are read to EOF.
    const buf = Buffer.allocUnsafe(st.size > 0 ? st.size : maxSize + 1);
    let n = 0;
    try {
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, null);
        if (r === 0) break;
        n += r;
      }
    } catch (e) {
      // procfs files such as /proc/kmsg pass fstat as regular, size 0, and block on read:
      // O_NONBLOCK turns that into EAGAIN.
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") throw new FileReadError("ENOTREG", "is a special file whose read would block (a character device, not a regular file)");
      throw e;
    }
    if (n > maxSize) throw new FileReadError("EFBIG", `is too large: over ${maxSize} bytes`);
    return { bytes: buf.subarray(0, n), st };
  } finally {
    closeSync(fd);
  }
}

/** readRegularFile for callers with their own messages: `${what}: cannot read '${path}': why`. */
export function readFileFor(path: string, maxSize: number, fail: (why: string, code: string) => Error): Buffer {
  try {
    return readRegularFile(path, maxSize).bytes;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw fail(e instanceof FileReadError ? e.message : code === "ENOENT" ? "does not exist" : code, code);
  }
}

export function readSecretFile(path: string, maxSize: number, what = `secret file ${path}`): ReadFile {
  try {
    const { bytes, st } = readRegularFile(path, maxSize);
    return { bytes, version: `${st.ino}:${st.size}:${st.mtimeMs}` };
  } catch (e) {
    throw fileError(e, path, what);
  }
}

/**
 * A file latchkey reads as root from a place another user may write (a template's source, a
 * --dotenv file the app owns), whose contents then go to that user: opened on descriptors from
 * `/`, following no symlink at any component that someone other than root could have planted
 * (fileset/walk.ts; a ConfigMap's root-owned `..data` links pass). A planted link is refused
 * (77) instead of read: through it, root's files would reach the app.
 */
export function readUnplanted(path: string, maxSize: number, what: string): ReadFile {
  try {
    const c = requireCalls(what);
    // Relative to the working directory, unnormalized: the walk resolves ".." as the kernel would.
    const abs = path.startsWith("/") ? path : `${process.cwd()}/${path}`;
    const { bytes, st } = readRegularFile(path, maxSize, { open: () => openFile(c, abs, READ_FLAGS) });
    return { bytes, version: `${st.ino}:${st.size}:${st.mtimeMs}` };
  } catch (e) {
    if (e instanceof FileSetError) {
      if (e.errno === "REFUSED") throw new LatchkeyError("no_perm", ExitCode.NO_PERM, `${what}: ${e.message}`);
      if (e.errno === "ENOSYS") throw new LatchkeyError("os", ExitCode.OS, e.message);
      throw fileError(Object.assign(new Error(e.message), { code: e.errno }), path, what);
    }
    throw fileError(e, path, what);
  }
}

/**
 * Read `real`, a path the caller resolved with realpath(3) and checked (the reference policy),
 * so that what is read is exactly what was checked: no symlink is followed at the last
 * component, and the open file must be the one at `real` now. A directory above it swapped
 * for a symlink between the check and the open would make the kernel open another file; the
 * descriptor's own path (/proc/self/fd) says so, and then nothing is read.
 */
export function readCheckedFile(real: string, maxSize: number, what: string): ReadFile {
  try {
    const { bytes, st } = readRegularFile(real, maxSize, { noFollow: true, expect: (fd, st) => sameFile(fd, st, real, what) });
    return { bytes, version: `${st.ino}:${st.size}:${st.mtimeMs}` };
  } catch (e) {
    throw fileError(e, real, what);
  }
}

function sameFile(fd: number, st: Stats, real: string, what: string): void {
  let at: string | undefined;
  try {
    at = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // No /proc: compare with what the checked path holds now (device and inode).
    const now = statSync(real, { throwIfNoEntry: false });
    if (now && now.dev === st.dev && now.ino === st.ino) return;
  }
  if (at === real) return;
  throw new LatchkeyError("no_perm", ExitCode.NO_PERM, `${what}: the file changed while it was opened (a directory on its path was replaced); refused`);
}

let scratch = Buffer.allocUnsafe(0);

/**
 * The read of a file that readdir reported as regular (d_type): open, read, close, and no
 * fstat (with a thousand secrets: a thousand syscalls and Stats objects fewer, measured
 * ~3 ms here). O_NOFOLLOW: an entry replaced by a symlink since the listing fails with ELOOP
 * (the caller then looks again, see dir.ts) instead of being read through the link.
 * O_NONBLOCK keeps a FIFO swapped in since the listing from blocking startup; a directory
 * fails with EISDIR and anything larger than `maxSize` as too large, as fstat's checks would
 * have. `what` is built only for an error message.
 */
export function readListedFile(path: string, maxSize: number, what: () => string): Buffer {
  const fd = openSync(path, OPEN | constants.O_NOFOLLOW); // errors: the caller's (ELOOP means "look again")
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
  if (e instanceof LatchkeyError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof FileReadError) {
    if (code === "EFBIG") return new LatchkeyError("data", ExitCode.DATA, `${what} ${e.message} (--max-size)`);
    return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} ${e.message}`);
  }
  if (code === "ENOENT") return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} does not exist`);
  if (code === "EACCES" || code === "EPERM") {
    return new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `${what}: permission denied (latchkey runs as uid ${process.getuid?.()} gid ${process.getgid?.()})`);
  }
  if (code === "EISDIR") return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what} is a directory, not a file`);
  if (code === "ELOOP") return new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what}: too many levels of symbolic links`);
  return new LatchkeyError("os", ExitCode.OS, `${what}: cannot read: ${code ?? (e as Error).message}`);
}
