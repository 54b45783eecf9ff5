/**
 * Write a directory the way kubelet's AtomicWriter does: a timestamped directory with the
 * files, `..data` a symlink to it, each key a symlink `key -> ..data/key`; an update writes a
 * new timestamped directory, points `..data_tmp` at it and renames it over `..data`, then
 * removes the old directory.
 */
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from "node:fs";
import { join } from "node:path";

let seq = 0;
export function kubeWrite(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const ts = `..2026_11_23_08_00_00.${process.pid}_${++seq}`;
  const tsDir = join(dir, ts);
  mkdirSync(tsDir);
  for (const [k, v] of Object.entries(files)) writeFileSync(join(tsDir, k), v, { mode: 0o644 });
  const data = join(dir, "..data");
  const old = existsSync(data) ? readlinkSync(data) : null;
  const tmp = join(dir, "..data_tmp");
  rmSync(tmp, { force: true });
  symlinkSync(ts, tmp);
  renameSync(tmp, data);
  for (const k of Object.keys(files)) {
    const link = join(dir, k);
    let isLink = false;
    try {
      isLink = lstatSync(link).isSymbolicLink();
    } catch {
      isLink = false;
    }
    if (!isLink) symlinkSync(join("..data", k), link);
  }
  if (old) rmSync(join(dir, old), { recursive: true, force: true });
}
