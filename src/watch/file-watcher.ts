/**
 * File change hints from inotify (node:fs `watch`). Why fs.watch and not chokidar: chokidar
 * is a layer over the same fs.watch whose extras (awaitWriteFinish, glob filters, polling
 * fallback) we do not need, because an event here is only a hint — the runner re-reads and
 * compares resolved values, so a spurious or duplicate event costs a read, never a restart.
 * What chokidar does not do is what matters here: follow the shapes in which secrets change.
 *
 * - Kubernetes volumes: `key -> ..data/key`, `..data -> ..2026_11_23_…`; kubelet writes a
 *   new timestamped directory and renames `..data_tmp` over `..data`. Only the volume's top
 *   directory sees an event, so the parent of every watched path is watched, and symlink
 *   targets are resolved and their directories watched as well.
 * - Docker/Swarm and bind mounts: a file changed in place (the inode is watched: events on a
 *   bind-mounted file written from the host arrive on the inode, not on our directory), or
 *   replaced by rename (the directory's event; the inode watch is then re-armed on the new file).
 * - Editors and `kubectl cp` write temp files and rename them: more events, same outcome.
 * - Paths that do not exist yet: the nearest existing ancestor is watched until they appear.
 *
 * After any event the set of watches is re-armed (inodes, symlink targets, new directories).
 * Filesystems without inotify (some network mounts) are covered by the runner's periodic
 * stat check, not here.
 */
import { watch, statSync, realpathSync, lstatSync, readlinkSync, type FSWatcher } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";

export interface FileWatcherOptions {
  /** Called for every raw event, with the path it concerns (may be noise: it is a hint). */
  onHint: (path: string) => void;
  /** Watch errors other than a vanished path (EMFILE, ENOSPC on inotify watches...). */
  onError?: (message: string, path: string) => void;
  /** Delay before re-arming after events, ms. */
  rearmDelay?: number;
}

interface Target {
  path: string;
  /** Only events for these entry names count (null: all). Keeps a busy parent (/run, /etc) quiet. */
  only: Set<string> | null;
  /** `ino:dev` when the watch was opened, to notice that the path now names another inode. */
  identity: string | null;
  watcher: FSWatcher | null;
}

export class FileWatcher {
  readonly #opts: FileWatcherOptions;
  #paths: string[] = [];
  #targets = new Map<string, Target>();
  #rearmTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: FileWatcherOptions) {
    this.#opts = opts;
  }

  /** Watch these files and directories (replaces the previous set). */
  watch(paths: readonly string[]): void {
    this.#paths = [...new Set(paths.map((p) => resolve(p)))];
    this.#rearm();
  }

  /** Paths currently under an inotify watch (for tests and `check`). */
  get watched(): string[] {
    return [...this.#targets.values()].filter((t) => t.watcher !== null).map((t) => t.path).sort();
  }

  close(): void {
    this.#closed = true;
    if (this.#rearmTimer) clearTimeout(this.#rearmTimer);
    this.#rearmTimer = null;
    for (const t of this.#targets.values()) t.watcher?.close();
    this.#targets.clear();
  }

  #rearm(): void {
    if (this.#closed) return;
    const wanted = new Map<string, Set<string> | null>();
    for (const p of this.#paths) {
      for (const e of targetEntries(p)) {
        const prev = wanted.get(e.path);
        if (prev === null) continue;
        if (e.only === undefined) wanted.set(e.path, null);
        else wanted.set(e.path, new Set([...(prev ?? []), e.only]));
      }
    }
    for (const [path, t] of this.#targets) {
      if (!wanted.has(path) || identityOf(path) !== t.identity || t.watcher === null) {
        t.watcher?.close();
        this.#targets.delete(path);
      }
    }
    for (const [path, only] of wanted) {
      const t = this.#targets.get(path);
      if (t) t.only = only;
      else this.#open(path, only);
    }
  }

  #scheduleRearm(): void {
    if (this.#rearmTimer || this.#closed) return;
    this.#rearmTimer = setTimeout(() => {
      this.#rearmTimer = null;
      this.#rearm();
    }, this.#opts.rearmDelay ?? 50);
  }

  #open(path: string, only: Set<string> | null): void {
    const target: Target = { path, only, identity: identityOf(path), watcher: null };
    this.#targets.set(path, target);
    if (target.identity === null) return; // vanished between listing and opening; the next re-arm retries
    try {
      const dir = isDirectory(path);
      const w = watch(path, { persistent: false }, (_event, name) => {
        if (name && target.only && !target.only.has(String(name))) return;
        // A file's own watch names the file itself; a directory's names an entry in it.
        this.#opts.onHint(name && dir ? join(path, String(name)) : path);
        this.#scheduleRearm();
      });
      w.on("error", (e: NodeJS.ErrnoException) => {
        w.close();
        target.watcher = null;
        if (e.code !== "ENOENT" && e.code !== "EPERM") this.#opts.onError?.(e.message, path);
        this.#opts.onHint(path);
        this.#scheduleRearm();
      });
      target.watcher = w;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") this.#opts.onError?.((e as Error).message, path);
    }
  }
}

/**
 * What to watch for one configured path: the path itself when it exists (a directory, or a
 * file's inode), its parent directory (replacement by rename, kubelet's `..data` swap), and
 * the same for where its symlinks lead. A missing path is represented by its nearest
 * existing ancestor.
 */
export function targetsFor(path: string): string[] {
  return [...new Set(targetEntries(path).map((e) => e.path))];
}

interface Entry {
  path: string;
  /** Only this entry name of the directory matters. */
  only?: string;
}

function targetEntries(path: string): Entry[] {
  const p = resolve(path);
  if (!exists(p)) {
    const anc = existingAncestor(p);
    // Only the next component on the way to the missing path matters in the ancestor.
    return anc ? [{ path: anc, only: relative(anc, p).split(sep)[0]! }] : [];
  }
  const out: Entry[] = [{ path: p }];
  let isLink = false;
  try {
    isLink = lstatSync(p).isSymbolicLink();
  } catch {
    isLink = false;
  }
  // A file's directory sees it replaced by rename (only its own name matters there, unless it
  // is a symlink: then the swap of what it points through, kubelet's `..data`, is elsewhere in
  // that directory). A directory's own parent is left alone: it is often busy with unrelated
  // files (/run, /tmp), and a replaced directory is caught by the periodic stat check.
  if (!isDirectory(p)) out.push(isLink ? { path: dirname(p) } : { path: dirname(p), only: basename(p) });
  for (const t of symlinkTargets(p)) out.push({ path: t });
  return out;
}

function symlinkTargets(p: string): string[] {
  const out = new Set<string>();
  let real: string | null = null;
  try {
    real = realpathSync.native(p);
  } catch {
    real = null;
  }
  if (real && real !== p) {
    out.add(real);
    out.add(dirname(real));
    // Intermediate links (kubelet: key -> ..data/key, ..data -> ..<timestamp>): their
    // directories are where the swap happens.
    for (const hop of symlinkHops(p)) out.add(dirname(hop));
  }
  return [...out];
}

function symlinkHops(p: string): string[] {
  const hops: string[] = [];
  let cur = p;
  for (let i = 0; i < 16; i++) {
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      break;
    }
    if (!st.isSymbolicLink()) break;
    hops.push(cur);
    try {
      cur = resolve(dirname(cur), readlinkSync(cur));
    } catch {
      break;
    }
  }
  return hops;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function existingAncestor(p: string): string | null {
  let cur = dirname(p);
  for (;;) {
    if (exists(cur)) return cur;
    const up = dirname(cur);
    if (up === cur) return null;
    cur = up;
  }
}

function identityOf(p: string): string | null {
  try {
    const st = statSync(p);
    return `${st.ino}:${st.dev}`;
  } catch {
    return null;
  }
}
