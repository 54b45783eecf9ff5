/**
 * Directories a file set must never be written into. The writer puts `..data`, a timestamped
 * set directory and one link per file into the directory it is given, and removes entries it
 * considers its own on a failed start: `--render /` would litter the machine's root (and
 * `--render /etc` replace `/etc/hostname` by a link). A typo or an empty variable
 * (`--render "$DIR/"` with DIR unset is `/`) is the usual way there, so these are refused when
 * the configuration is read. Directories below them (`/etc/app`) are the operator's to choose.
 */
import { posix } from "node:path";

const TOP = new Set(["/", "/etc", "/usr", "/bin", "/sbin", "/proc", "/sys", "/dev", "/boot"]);

/** Why DIR (absolute) must not hold a file set, or null. `/lib`, `/lib64`, `/libx32`... count as /lib*. */
export function systemDirProblem(dir: string): string | null {
  const d = posix.normalize(dir).replace(/(.)\/+$/, "$1").replace(/^\/+/, "/");
  if (TOP.has(d) || /^\/lib[^/]*$/.test(d)) return `${d} is a system directory (/, /etc, /usr, /bin, /sbin, /lib*, /proc, /sys, /dev, /boot are refused); use a directory of its own, e.g. /run/app-secrets`;
  return null;
}
