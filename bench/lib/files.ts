import { closeSync, fsyncSync, openSync } from "node:fs";

/**
 * Flush a freshly written executable to disk. Until writeback, its page-cache pages are
 * dirty, and a process mapping them shows them as Private_Dirty in smaps: a just-built
 * binary would look like it has ~70 MB of private dirty memory.
 */
export function flushFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
