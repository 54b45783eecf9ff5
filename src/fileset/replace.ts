/**
 * Single files in a directory another user can write, for layouts that must stay real files
 * (the app user's ~/.ssh: OpenSSH, git and editors expect files, not a ..data set). Always
 * relative to an open directory descriptor from walk.ts.
 */
import { fchmodSync, fchownSync, fsyncSync, readSync, writeSync } from "node:fs";
import type { FileCalls } from "../platform/libc.ts";
import { crypto } from "../platform/lazy.ts";
import { close, fromNode, fstat, NEW_FILE_FLAGS, O_PATH, openAt, openAtIfExists, READ_FLAGS, refuse, renameAt, unlinkAt } from "./at.ts";
import { constants } from "node:fs";
import { O_CLOEXEC } from "../platform/libc.ts";
import type { Owner } from "./writer.ts";

export type Entry = { kind: "absent" } | { kind: "file"; bytes: Buffer } | { kind: "other" };

/**
 * What `name` in `dfd` is, without following it; a regular file's bytes are read (never
 * blocking on a FIFO), at most `maxSize` of them. The directory's owner can plant a sparse
 * file of any size there: a bigger one is refused before a byte is read (root would otherwise
 * allocate up to Node's 2 GiB read limit for it).
 */
export function readEntryAt(c: FileCalls, dfd: number, name: string, path: string, maxSize: number): Entry {
  const p = openAtIfExists(c, dfd, name, O_PATH | constants.O_NOFOLLOW | O_CLOEXEC, path);
  if (p === null) return { kind: "absent" };
  try {
    if (!fstat(p, path).isFile()) return { kind: "other" };
  } finally {
    close(p);
  }
  const fd = openAtIfExists(c, dfd, name, READ_FLAGS, path);
  if (fd === null) return { kind: "absent" };
  try {
    // Checked again on what was opened: the entry may have changed since the look above.
    const st = fstat(fd, path);
    if (!st.isFile()) return { kind: "other" };
    const tooBig = () => refuse(path, `is larger than ${maxSize} bytes, more than latchkey ever writes there; refusing to read it (remove it)`);
    if (st.size > maxSize) throw tooBig();
    // Read to the end, not to st.size: the file can grow after the fstat; one byte past the
    // bound is enough to know.
    const buf = Buffer.alloc(Math.min(st.size, maxSize) + 1);
    let n = 0;
    for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += got;
    if (n > maxSize) throw tooBig();
    return { kind: "file", bytes: buf.subarray(0, n) };
  } catch (e) {
    throw fromNode(e, path);
  } finally {
    close(fd);
  }
}

/**
 * Replace `name` in `dfd` with `data`: a new file (O_EXCL|O_NOFOLLOW), owned and moded on its
 * descriptor, synced, renamed over the old entry (a symlink there is replaced, never followed).
 */
export function replaceFileAt(c: FileCalls, dfd: number, name: string, data: Buffer, mode: number, owner: Owner | undefined, path: string): void {
  const tmp = `${name}.latchkey-${crypto().randomBytes(6).toString("hex")}`;
  let fd: number | undefined;
  try {
    fd = openAt(c, dfd, tmp, NEW_FILE_FLAGS, 0o600, path);
    if (owner && process.geteuid!() === 0) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
    close(fd);
    fd = undefined;
    renameAt(c, dfd, tmp, name, path);
  } catch (e) {
    if (fd !== undefined) close(fd);
    try {
      unlinkAt(c, dfd, tmp, false, path);
    } catch {
      // not created
    }
    throw fromNode(e, path);
  }
}
