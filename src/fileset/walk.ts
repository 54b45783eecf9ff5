/**
 * Opening a directory by path without following anything another user could have planted.
 *
 * The path is walked from `/` one component at a time, each opened relative to the previous
 * one's descriptor with O_DIRECTORY|O_NOFOLLOW. A component that is a symlink is followed only
 * when neither it nor the directory holding it could have been put there or changed by anyone
 * but root (or latchkey's own uid, when it is not root): owned by them, in a directory owned by
 * them that nobody else can write (or that is sticky, which keeps others from replacing an
 * entry they do not own). /var/run -> /run passes; a link in the app's home does not.
 *
 * The descriptor returned is the directory itself: whatever is renamed or replaced afterwards,
 * every operation made through it lands in that directory.
 */
import { constants, fchmodSync, fchownSync } from "node:fs";
import { O_CLOEXEC } from "../platform/libc.ts";
import { os } from "../platform/lazy.ts";
import type { FileCalls } from "../platform/libc.ts";
import { basename, dirname } from "node:path";
import {
  close, DIR_FLAGS, errnoName, FileSetError, fstat, mkdirAt, O_PATH, openAt, openRoot, readLinkAt, refuse,
} from "./at.ts";

export interface WalkOptions {
  /** Create missing components: root-owned (latchkey's uid) with this mode. Absent: a missing one is ENOENT. */
  createMode?: number;
  /** Create only the last component (a home's .ssh: the home itself must exist). */
  createLastOnly?: boolean;
}

export interface OpenedDir {
  fd: number;
  /** The last component did not exist and was created by this walk. */
  created: boolean;
}

/**
 * Directories passed through: O_PATH, so that one with search permission only (0711, a home on
 * some systems) is passed as the kernel's own lookup would pass it; O_RDONLY would need read
 * permission there, and a non-root latchkey would fail where a path lookup succeeds. Still
 * O_DIRECTORY|O_NOFOLLOW: a symlink fails (ENOTDIR) and goes to trustedLink. The last
 * component is opened for reading (listed, fsynced, fchowned through it).
 */
const PASS_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC;

const MAX_LINKS = 40; // the kernel's own limit on symlinks in one lookup

/** Owners whose symlinks and directories are trusted: root, and latchkey itself. */
function trusted(uid: number): boolean {
  return uid === 0 || uid === process.geteuid!();
}

/** Open `path` (absolute) as a directory; see the module comment for what is followed. */
export function openDirectory(c: FileCalls, path: string, o: WalkOptions = {}): OpenedDir {
  if (!path.startsWith("/")) throw refuse(path, "expected an absolute path");
  const rest = parts(path);
  let fd = openRoot();
  let walked = "";
  let links = 0;
  let created = false;
  try {
    while (rest.length > 0) {
      const name = rest.shift()!;
      const here = `${walked}/${name}`;
      const last = rest.length === 0;
      if (name === "..") {
        // The directory's real parent, as the kernel resolves ".." (at "/" it is "/" itself).
        const up = openAt(c, fd, "..", last ? DIR_FLAGS : PASS_FLAGS, 0, here);
        close(fd);
        fd = up;
        walked = walked.slice(0, Math.max(0, walked.lastIndexOf("/")));
        continue;
      }
      const r = c.openat(fd, name, last ? DIR_FLAGS : PASS_FLAGS, 0);
      if (r >= 0) {
        close(fd);
        fd = r;
        walked = here;
        created = false;
        continue;
      }
      const err = c.errno();
      const { ENOENT, ELOOP, ENOTDIR } = os().constants.errno;
      if (err === ENOENT && o.createMode !== undefined && (!o.createLastOnly || last)) {
        mkdirAt(c, fd, name, 0o700, here);
        const made = openAt(c, fd, name, DIR_FLAGS, 0, here);
        try {
          // mkdir's mode went through the umask; and the owner is set explicitly (a setgid
          // parent would otherwise hand its group down).
          fchownSync(made, process.geteuid!(), process.getegid!());
          fchmodSync(made, o.createMode);
        } catch (e) {
          close(made);
          throw e;
        }
        close(fd);
        fd = made;
        walked = here;
        created = true;
        continue;
      }
      if (err === ENOENT) throw new FileSetError(here, "ENOENT", `${here}: ENOENT`);
      if (err !== ELOOP && err !== ENOTDIR) throw new FileSetError(here, errnoName(err), `${here}: ${errnoName(err)}`);
      // ELOOP/ENOTDIR: a symlink (O_NOFOLLOW refused it) or something that is not a directory.
      const target = trustedLink(c, fd, name, here);
      if (++links > MAX_LINKS) throw new FileSetError(path, "ELOOP", `${path}: too many symlinks`);
      rest.unshift(...parts(target));
      if (target.startsWith("/")) {
        close(fd);
        fd = openRoot();
        walked = "";
      }
    }
    return { fd, created };
  } catch (e) {
    close(fd);
    throw e;
  }
}

/**
 * Open the file `path` (absolute) with `flags` (O_NOFOLLOW is added), following a symlink at
 * any component only as openDirectory does: one nobody but root (or latchkey) could have
 * planted. For files latchkey reads as root from a place it was told about but another user
 * may write (a template's source): a Kubernetes ConfigMap's root-owned `..data` links pass, a
 * link the app user planted to /etc/shadow does not.
 */
export function openFile(c: FileCalls, path: string, flags: number): number {
  if (!path.startsWith("/")) throw refuse(path, "expected an absolute path");
  let p = path;
  for (let links = 0; ; links++) {
    const dfd = openDirectory(c, dirname(p)).fd;
    try {
      const name = basename(p);
      const r = c.openat(dfd, name, flags | constants.O_NOFOLLOW, 0);
      if (r >= 0) return r;
      const err = c.errno();
      if (err !== os().constants.errno.ELOOP) return openAt(c, dfd, name, flags | constants.O_NOFOLLOW, 0, p); // the same failure, named
      if (links >= MAX_LINKS) throw new FileSetError(path, "ELOOP", `${path}: too many symlinks`);
      const target = trustedLink(c, dfd, name, p);
      p = target.startsWith("/") ? target : `${dirname(p)}/${target}`;
    } finally {
      close(dfd);
    }
  }
}

/** The target of the symlink `name` in `dirfd`, if nobody but root (or latchkey) could have planted it. */
function trustedLink(c: FileCalls, dirfd: number, name: string, here: string): string {
  const l = openAt(c, dirfd, name, O_PATH | constants.O_NOFOLLOW | O_CLOEXEC, 0, here);
  try {
    const st = fstat(l, here);
    if (!st.isSymbolicLink()) throw new FileSetError(here, "ENOTDIR", `${here}: not a directory`);
    const dir = fstat(dirfd, here);
    const othersCanWrite = (dir.mode & 0o022) !== 0 && (dir.mode & 0o1000) === 0;
    if (!trusted(st.uid) || !trusted(dir.uid) || othersCanWrite) {
      throw refuse(here, `is a symlink that another user could have planted (link owned by uid ${st.uid}, in a directory owned by uid ${dir.uid}, mode ${(dir.mode & 0o7777).toString(8)}); refusing to follow it: name the real directory`);
    }
    const target = readLinkAt(c, l, "", here);
    if (target === null) throw new FileSetError(here, "ENOTDIR", `${here}: not a directory`);
    return target;
  } finally {
    close(l);
  }
}

function parts(p: string): string[] {
  return p.split("/").filter((s) => s !== "" && s !== ".");
}
