/**
 * SSH secrets go to the app user's ~/.ssh as files, ready for git/ssh: the directory 0700,
 * keys and config 0600, known_hosts and *.pub 0644, all owned by the app user (OpenSSH
 * refuses keys and config that others can read or write).
 *
 * Runs as root before the privilege drop, in a directory the app user owns, so each write
 * is a new file (O_EXCL) renamed over the target: a symlink planted by the app user is
 * replaced, never followed. A file latchkey did not write (a developer's own key on a
 * laptop) is never overwritten: latchkey records what it installed in `.latchkey-installed`.
 */
import { crypto } from "../platform/lazy.ts";
import {
  chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync,
  readFileSync, renameSync, unlinkSync, writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { SshSecret } from "../env/prepare.ts";
import type { Identity } from "../privileges/identity.ts";
import { os } from "../platform/lazy.ts";

export const MANIFEST = ".latchkey-installed";

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

export function installSsh(files: readonly SshSecret[], target: SshTarget): string[] {
  if (files.length === 0) return [];
  const root = process.getuid!() === 0;
  ensureDir(target, root);
  const manifest = readManifest(target.dir);
  const installed: string[] = [];
  for (const f of files) {
    const path = join(target.dir, f.name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st) {
      const ours = st.isFile() && manifest[f.name] !== undefined && manifest[f.name] === hashFile(path);
      const same = st.isFile() && hashBytes(f.bytes) === hashFile(path);
      if (!ours && !same) {
        throw new LatchkeyError("ssh", ExitCode.NO_PERM,
          `${path} exists and was not installed by latchkey; refusing to replace it with ${f.source} (remove it, or turn SSH install off with --ssh none)`);
      }
    }
    writeAtomic(path, f.bytes, fileMode(f.name), target, root);
    manifest[f.name] = hashBytes(f.bytes);
    installed.push(path);
  }
  writeAtomic(join(target.dir, MANIFEST), Buffer.from(JSON.stringify(manifest, null, 1) + "\n"), 0o600, target, root);
  return installed;
}

function ensureDir(t: SshTarget, root: boolean): void {
  const st = lstatSync(t.dir, { throwIfNoEntry: false });
  if (st?.isSymbolicLink() && root) {
    throw new LatchkeyError("ssh", ExitCode.NO_PERM, `${t.dir} is a symlink; refusing to install SSH secrets through it as root`);
  }
  if (st && !st.isDirectory() && !st.isSymbolicLink()) {
    throw new LatchkeyError("ssh", ExitCode.NO_PERM, `${t.dir} exists and is not a directory`);
  }
  const missing = st ? null : missingHome(t);
  if (missing) throw missing;
  try {
    if (!st) {
      const parent = dirname(t.dir);
      // Missing parents of an explicit --ssh-dir are created traversable; only the .ssh dir is private.
      mkdirSync(parent, { recursive: true, mode: 0o755 });
      mkdirSync(t.dir, { mode: 0o700 });
    }
    if (root) chownSync(t.dir, t.uid, t.gid);
    chmodSync(t.dir, 0o700);
  } catch (e) {
    throw osError(e, t.dir);
  }
}

function writeAtomic(path: string, data: Buffer, mode: number, t: SshTarget, root: boolean): void {
  const tmp = `${path}.latchkey-${crypto().randomBytes(6).toString("hex")}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    if (root) fchownSync(fd, t.uid, t.gid);
    fchmodSync(fd, mode);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
    throw osError(e, path);
  }
}

function readManifest(dir: string): Record<string, string> {
  try {
    const fd = openSync(join(dir, MANIFEST), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const v = JSON.parse(readFileSync(fd, "utf8")) as unknown;
      return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
    } finally {
      closeSync(fd);
    }
  } catch {
    return {};
  }
}

function hashFile(path: string): string | undefined {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      return hashBytes(readFileSync(fd));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function hashBytes(b: Buffer): string {
  return crypto().createHash("sha256").update(b).digest("hex");
}

function osError(e: unknown, path: string): LatchkeyError {
  const code = (e as NodeJS.ErrnoException).code;
  const perm = code === "EACCES" || code === "EPERM";
  return new LatchkeyError("ssh", perm ? ExitCode.NO_PERM : ExitCode.OS,
    `cannot install SSH secret ${path}: ${code ?? (e as Error).message} (latchkey runs as uid ${process.getuid?.()})`);
}
