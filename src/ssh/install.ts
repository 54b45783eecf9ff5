/**
 * SSH secrets go to the app user's ~/.ssh as files, ready for git/ssh: the directory 0700,
 * keys and config 0600, known_hosts and *.pub 0644, all owned by the app user (OpenSSH
 * refuses keys and config that others can read or write).
 *
 * Runs as root before the privilege drop, in a directory the app user owns, so everything is
 * done on descriptors (src/fileset/): the directory is reached without following a symlink the
 * app user could have planted in any ancestor, and each write is a new file (O_EXCL|O_NOFOLLOW)
 * renamed over the target: a symlink planted by the app user is replaced, never followed. A file latchkey did not write (a developer's own key on a
 * laptop) is never overwritten: latchkey records what it installed in `.latchkey-installed`.
 */
import { constants, fchmodSync, fchownSync, lstatSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ExitCode, LatchkeyError } from "../errors.ts";
import { MAX_MAX_SIZE } from "../env/options.ts";
import type { SshSecret } from "../env/prepare.ts";
import type { Identity } from "../privileges/identity.ts";
import { crypto, os } from "../platform/lazy.ts";
import { O_CLOEXEC, type FileCalls } from "../platform/libc.ts";
import { close, DIR_FLAGS, FileSetError, fstat, mkdirAt, O_PATH, openAt, requireCalls } from "../fileset/at.ts";
import { openDirectory } from "../fileset/walk.ts";
import { readEntryAt, replaceFileAt } from "../fileset/replace.ts";

export const MANIFEST = ".latchkey-installed";
/** A manifest is a few hundred bytes (a name and a hash per file); anything bigger was planted. */
const MANIFEST_MAX = 64 * 1024;

export interface SshTarget {
  dir: string;
  uid: number;
  gid: number;
  /** --ssh-dir was given: its missing parents are created. A missing home is an error instead. */
  explicit: boolean;
}

export function sshTarget(identity: Identity | undefined, sshDir: string | undefined): SshTarget {
  const uid = identity?.uid ?? process.getuid!();
  const gid = identity?.gid ?? process.getgid!();
  const home = identity?.home ?? (process.env.HOME || os().homedir());
  return { dir: sshDir ?? join(home, ".ssh"), uid, gid, explicit: sshDir !== undefined };
}

export function fileMode(name: string): number {
  return name === "known_hosts" || name.endsWith(".pub") ? 0o644 : 0o600;
}

/** Creating a home from /etc/passwd (nobody's is /nonexistent) is not latchkey's call. */
export function missingHome(t: SshTarget): LatchkeyError | null {
  const parent = dirname(t.dir);
  if (t.explicit || lstatSync(t.dir, { throwIfNoEntry: false }) || lstatSync(parent, { throwIfNoEntry: false })) return null;
  return new LatchkeyError("ssh", ExitCode.CONFIG, `cannot install SSH secrets: home directory ${parent} does not exist (set --ssh-dir, or --ssh none)`);
}

/**
 * Everything on descriptors: the directory is reached by fileset/walk.ts (no symlink the app
 * user could have planted in an ancestor is followed), each file is read, written and renamed
 * relative to the directory's descriptor.
 */
export function installSsh(files: readonly SshSecret[], target: SshTarget): string[] {
  if (files.length === 0) return [];
  const root = process.geteuid!() === 0;
  const dir = resolve(target.dir);
  try {
    const c = requireCalls(`cannot install SSH secrets in ${dir}`);
    const dfd = openSshDir(c, { ...target, dir }, root);
    try {
      return installIn(c, dfd, dir, files, target, root);
    } finally {
      close(dfd);
    }
  } catch (e) {
    throw e instanceof LatchkeyError ? e : osError(e, dir);
  }
}

function installIn(c: FileCalls, dfd: number, dir: string, files: readonly SshSecret[], t: SshTarget, root: boolean): string[] {
  const owner = root ? { uid: t.uid, gid: t.gid } : undefined;
  const manifest = readManifest(c, dfd, dir);
  const installed: string[] = [];
  for (const f of files) {
    const path = join(dir, f.name);
    // Compared with what latchkey installed (a secret: at most the largest --max-size) and
    // with the new bytes; a file bigger than both is not ours and is not read.
    const entry = readEntryAt(c, dfd, f.name, path, Math.max(MAX_MAX_SIZE, f.bytes.length));
    if (entry.kind !== "absent") {
      const now = entry.kind === "file" ? hashBytes(entry.bytes) : undefined;
      const ours = now !== undefined && manifest[f.name] === now;
      const same = now !== undefined && now === hashBytes(f.bytes);
      if (!ours && !same) {
        throw new LatchkeyError("ssh", ExitCode.NO_PERM,
          `${path} exists and was not installed by latchkey; refusing to replace it with ${f.source} (remove it, or turn SSH install off with --ssh none)`);
      }
    }
    replaceFileAt(c, dfd, f.name, f.bytes, fileMode(f.name), owner, path);
    manifest[f.name] = hashBytes(f.bytes);
    installed.push(path);
  }
  replaceFileAt(c, dfd, MANIFEST, Buffer.from(JSON.stringify(manifest, null, 1) + "\n"), 0o600, owner, join(dir, MANIFEST));
  return installed;
}

/**
 * The .ssh directory, opened (created 0700 for the app user if missing) through its parent's
 * descriptor. A pre-existing one is handed to the app user only when it is the app's already,
 * or root's inside a directory the app user owns (its home, set up by the image); root's own
 * .ssh (root-owned, in a root-owned directory) and anyone else's is refused, never chowned.
 */
function openSshDir(c: FileCalls, t: SshTarget, root: boolean): number {
  const missing = lstatSync(t.dir, { throwIfNoEntry: false }) ? null : missingHome(t);
  if (missing) throw missing;
  const name = basename(t.dir);
  // Missing parents of an explicit --ssh-dir are created traversable; only the .ssh dir is private.
  const parent = openDirectory(c, dirname(t.dir), t.explicit ? { createMode: 0o755 } : {}).fd;
  try {
    let fd = c.openat(parent, name, DIR_FLAGS, 0);
    let created = false;
    if (fd < 0) {
      const err = c.errno();
      const { ENOENT, ELOOP, ENOTDIR } = os().constants.errno;
      // O_DIRECTORY|O_NOFOLLOW on a symlink: ELOOP or ENOTDIR, depending on the kernel.
      const link = (err === ELOOP || err === ENOTDIR) && isSymlinkAt(c, parent, name, t.dir);
      if (link && root) {
        throw new LatchkeyError("ssh", ExitCode.NO_PERM, `${t.dir} is a symlink; refusing to install SSH secrets through it as root`);
      }
      if (link) {
        fd = openDirectory(c, t.dir).fd; // latchkey's own files: a link it may follow (walk.ts says which)
      } else if (err === ENOTDIR || err === ELOOP) {
        throw new LatchkeyError("ssh", ExitCode.NO_PERM, `${t.dir} exists and is not a directory`);
      } else if (err === ENOENT) {
        mkdirAt(c, parent, name, 0o700, t.dir);
        fd = openAt(c, parent, name, DIR_FLAGS, 0, t.dir);
        created = true;
      } else {
        throw new FileSetError(t.dir, `errno ${err}`, `${t.dir}: errno ${err}`);
      }
    }
    try {
      const st = fstat(fd, t.dir);
      if (!created && st.uid !== t.uid) {
        const home = fstat(parent, dirname(t.dir));
        if (st.uid !== 0 || home.uid !== t.uid) {
          throw new LatchkeyError("ssh", ExitCode.NO_PERM,
            `${t.dir} is owned by uid ${st.uid}${st.uid === 0 ? ` in a directory the app user (uid ${t.uid}) does not own` : ""}; refusing to hand it to uid ${t.uid} (set --ssh-dir to the app user's own directory, or --ssh none)`);
        }
      }
      if (root) fchownSync(fd, t.uid, t.gid);
      fchmodSync(fd, 0o700);
      return fd;
    } catch (e) {
      close(fd);
      throw e;
    }
  } finally {
    close(parent);
  }
}

function isSymlinkAt(c: FileCalls, dfd: number, name: string, path: string): boolean {
  const fd = openAt(c, dfd, name, O_PATH | constants.O_NOFOLLOW | O_CLOEXEC, 0, path);
  try {
    return fstat(fd, path).isSymbolicLink();
  } finally {
    close(fd);
  }
}

function readManifest(c: FileCalls, dfd: number, dir: string): Record<string, string> {
  // Oversized: refused (77), not taken as empty; read without bounds, it cost root memory.
  const e = readEntryAt(c, dfd, MANIFEST, join(dir, MANIFEST), MANIFEST_MAX);
  try {
    if (e.kind !== "file") return {};
    const v = JSON.parse(e.bytes.toString("utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function hashBytes(b: Buffer): string {
  return crypto().createHash("sha256").update(b).digest("hex");
}

function osError(e: unknown, path: string): LatchkeyError {
  if (e instanceof FileSetError) {
    if (e.errno === "ENOSYS") return new LatchkeyError("ssh", ExitCode.OS, e.message);
    if (e.errno === "REFUSED") return new LatchkeyError("ssh", ExitCode.NO_PERM, `cannot install SSH secrets: ${e.message}`);
    return new LatchkeyError("ssh", e.refused ? ExitCode.NO_PERM : ExitCode.OS,
      `cannot install SSH secret ${e.path}: ${e.errno} (latchkey runs as uid ${process.getuid?.()})`);
  }
  const code = (e as NodeJS.ErrnoException).code;
  const perm = code === "EACCES" || code === "EPERM";
  return new LatchkeyError("ssh", perm ? ExitCode.NO_PERM : ExitCode.OS,
    `cannot install SSH secret ${path}: ${code ?? (e as Error).message} (latchkey runs as uid ${process.getuid?.()})`);
}
