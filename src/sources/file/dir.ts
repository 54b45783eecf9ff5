/**
 * Scanning a secrets directory: Docker/Swarm/Compose (`/run/secrets/NAME`, plain files or
 * bind mounts) and Kubernetes secret volumes (the kubelet's atomic-writer layout:
 *
 *   DIR/..2026_11_23_08_00_00.123456789/   the real files
 *   DIR/..data -> ..2026_11_23_...          swapped atomically on update
 *   DIR/NAME   -> ..data/NAME               what the app sees
 *
 * so visible names are followed through `..data`, and every dot-entry is skipped). A symlink
 * whose target is outside the directory is refused: a secret volume never needs one, and
 * following it would let whoever writes the volume make latchkey read any file it can.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from "node:fs";
import { join, sep } from "node:path";
import { ExitCode, LatchkeyError } from "../../errors.ts";
import { printable } from "../../env/naming.ts";
import type { Logger } from "../../log/logger.ts";
import { fileError, readListedFile } from "./read.ts";

export interface DirEntry {
  /** File name as listed (the secret's name). */
  name: string;
  /** Path as the user would write it, e.g. `/run/secrets/production/db`. */
  path: string;
  /** The secrets directory it came from, as given. */
  dir: string;
  /** Came from the per-environment subdirectory. */
  envOverride: boolean;
  bytes: Buffer;
}

export interface ScanOptions {
  maxSize: number;
  /** `--env-name`: DIR/NAME/ overrides DIR/. */
  envName?: string;
  /** The directory was not asked for (the default): missing is fine. */
  optional: boolean;
  log?: Logger;
}

/** All secrets of one directory, per-environment overrides applied; null when an optional dir is absent. */
export function scanSecretsDir(dir: string, opts: ScanOptions): DirEntry[] | null {
  let root: string;
  try {
    root = realpathSync.native(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === "ENOENT" || code === "ENOTDIR") && opts.optional) return null;
    if (code === "ENOENT") throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `secrets dir ${dir} does not exist (--secrets-dir)`);
    throw fileError(e, dir, `secrets dir ${dir}`);
  }
  if (!statSync(root).isDirectory()) {
    throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `secrets dir ${dir} is not a directory (--secrets-dir)`);
  }
  const base = listDir(root, dir, root, dir, opts, false);
  if (!opts.envName) return [...base.files.values()];
  const envDir = base.subdirs.get(opts.envName);
  if (!envDir) {
    opts.log?.debug("no per-environment secrets", { dir: join(dir, opts.envName) });
    return [...base.files.values()];
  }
  const over = listDir(envDir, join(dir, opts.envName), root, dir, opts, true);
  const merged = new Map(base.files);
  for (const [name, e] of over.files) merged.set(name, e);
  return [...merged.values()];
}

interface Listing {
  files: Map<string, DirEntry>;
  /** Real paths of subdirectories by visible name. */
  subdirs: Map<string, string>;
}

function listDir(real: string, shown: string, root: string, top: string, opts: ScanOptions, envOverride: boolean): Listing {
  let dirents: Dirent[];
  try {
    dirents = readdirSync(real, { withFileTypes: true });
  } catch (e) {
    throw fileError(e, shown, `secrets dir ${shown}`);
  }
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files = new Map<string, DirEntry>();
  const subdirs = new Map<string, string>();
  // join() once per directory, not per file: names from readdir hold no '/', and dot-names
  // (so '.' and '..') are skipped, so prefix + name is what join would give.
  const shownPrefix = join(shown, "_").slice(0, -1);
  const realPrefix = real.endsWith(sep) ? real : real + sep;
  for (const d of dirents) {
    const name = d.name;
    // `..data`, `..2026_...` (kubelet), `.gitkeep`, editor droppings.
    if (name.startsWith(".")) continue;
    const path = shownPrefix + name;
    let target = realPrefix + name;
    const what = () => `secret file ${printable(path)}`;
    // The common case, a plain file (d_type from readdir): no stat at all before the read.
    if (d.isFile()) {
      files.set(name, { name, path, dir: top, envOverride, bytes: readListedFile(target, opts.maxSize, what) });
      continue;
    }
    const lst = lstatSync(target, { throwIfNoEntry: false });
    if (!lst) continue; // vanished between readdir and lstat (a kubelet swap): the next scan sees it.
    if (lst.isSymbolicLink()) {
      let resolved: string;
      try {
        resolved = realpathSync.native(target);
      } catch (e) {
        throw fileError(e, path, `secret file ${printable(path)} (a symlink)`);
      }
      if (resolved !== root && !resolved.startsWith(root + sep)) {
        throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
          `secret file ${printable(path)} is a symlink to ${printable(resolved)}, outside the secrets dir ${top}; refused`);
      }
      target = resolved;
    }
    const st = statSync(target);
    if (st.isDirectory()) {
      subdirs.set(name, target);
      continue;
    }
    if (!st.isFile()) {
      opts.log?.warn("skipping a secrets-dir entry that is not a regular file", { path: printable(path) });
      continue;
    }
    files.set(name, { name, path, dir: top, envOverride, bytes: readListedFile(target, opts.maxSize, what) });
  }
  return { files, subdirs };
}
