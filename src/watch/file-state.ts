/**
 * A cheap "did anything change?" for files, without reading them: inode, device, size,
 * mtime and ctime in nanoseconds. A rename-over changes the inode, an in-place write changes
 * mtime/size, a chmod/chown changes ctime. It is a hint like a watch event (the content
 * content compare decides), and the safety net where inotify is silent (NFS, some FUSE mounts,
 * overlay lower layers, a watch lost to ENOSPC).
 */
import { statSync } from "node:fs";

export function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? "?"}`;
  }
}

export function fileStamps(paths: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of paths) out.set(p, fileStamp(p));
  return out;
}

export function stampsDiffer(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return true;
  for (const [k, v] of a) if (b.get(k) !== v) return true;
  return false;
}
