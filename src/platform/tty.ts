/**
 * isatty(3) without node:tty: that module loads node:net and the stream machinery (~3 ms of
 * every start, measured here) only to answer this. libc answers it when FFI is there; a
 * descriptor that is not a character device, or is one of the memory devices (/dev/null,
 * what `docker run` without -t gives), is answered by fstat alone.
 */
import { fstatSync } from "node:fs";
import { libc } from "./libc.ts";

const MEMORY_DEVICES = 1; // major number of /dev/null, /dev/zero, /dev/full, /dev/urandom

export function isTerminal(fd: number): boolean {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return false; // closed: isatty says EBADF
  }
  if (!st.isCharacterDevice() || major(st.rdev) === MEMORY_DEVICES) return false;
  const c = libc();
  if (c) return c.isatty(fd) === 1;
  return (process.getBuiltinModule("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** glibc's gnu_dev_major for a Linux dev_t. */
function major(dev: number): number {
  return ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}
