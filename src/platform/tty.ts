/**
 * isatty(3) without node:tty: that module loads node:net and the stream machinery (~3 ms of
 * every start, measured here) only to answer this. libc answers it when FFI is there.
 */
import { libc } from "./libc.ts";

export function isTerminal(fd: number): boolean {
  const c = libc();
  if (c) return c.isatty(fd) === 1;
  return (process.getBuiltinModule("node:tty") as typeof import("node:tty")).isatty(fd);
}
