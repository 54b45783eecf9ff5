/**
 * The file-set writer: every file latchkey hands to the app (--render today; templates and PKI
 * certificate+key+chain sets next) is written by this one piece of code, because the app may be
 * compromised and owns, or can write, the places those files go.
 *
 * Layout (the kubelet's, for Secret and ConfigMap volumes):
 *
 *     DIR/..2026_12_06_03_55_12.3f9a0c   the set: one directory, owned by the app, 0700
 *     DIR/..data -> ..2026_12_06_...      the current set
 *     DIR/NAME -> ..data/NAME             what the app opens
 *
 * A new set is written whole into a fresh directory, then switched in by one rename of a new
 * `..data` symlink over the old: a reader sees the old set or the new, never a mix, and a failure
 * at any point before that rename (ENOSPC on a full tmpfs) leaves the old set as it was and
 * removes the partial one. The old set is removed after the switch.
 *
 * Every operation is relative to a directory descriptor (platform/libc.ts's *at() calls): files
 * are created O_EXCL|O_NOFOLLOW, owned and moded through their descriptor (fchown/fchmod), never
 * by a path the app could redirect between two calls. DIR is reached by walk.ts (no symlink the
 * app could have planted is followed); a DIR that is world-writable, or owned by someone who is
 * neither root nor the app, is refused rather than taken over.
 */
import { fchmodSync, fchownSync, fsyncSync, writeSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { FileCalls } from "../platform/libc.ts";
import { crypto } from "../platform/lazy.ts";
import {
  close, DIR_FLAGS, FileSetError, fromNode, fstat, listDir, mkdirAt, NEW_FILE_FLAGS, openAt, openAtIfExists,
  readLinkAt, refuse, renameAt, requireCalls, symlinkAt, unlinkAt,
} from "./at.ts";
import { openDirectory } from "./walk.ts";

export interface Owner {
  uid: number;
  gid: number;
}

export interface FileSpec {
  /** A plain file name (fileName() checks it). */
  name: string;
  data: Buffer | string;
  /** Default 0400. */
  mode?: number;
  /** Default: the set's owner. */
  owner?: Owner;
}

export interface FileSetOptions {
  /** Absolute path of DIR. Missing components are created, root-owned 0755 (DIR itself 0750). */
  dir: string;
  /** Who reads the set (the app user): owns the set directory and, by default, each file. */
  owner?: Owner;
  /** Names this output in errors ("--render"). */
  label: string;
}

export const DATA = "..data";
const DATA_TMP = "..data_tmp";
const SET = /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[0-9a-f]+$/;

/** A name that is one file in DIR: no "/", no NUL, not "." or "..", not hidden (the layout's own names start with ".."). */
export function fileName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name);
}

export class FileSetWriter {
  readonly dir: string;
  readonly #o: FileSetOptions;
  /** This writer created DIR (so a failed start removes it too). */
  #createdDir = false;
  /** Names of the set in place, as far as this process knows (a fallback when /proc is missing). */
  #names = new Set<string>();

  constructor(o: FileSetOptions) {
    this.dir = o.dir;
    this.#o = o;
  }

  /** Write `files` as the new set and switch to it; the names of the previous set that are gone are removed. */
  write(files: readonly FileSpec[]): { written: number; removed: number } {
    const c = requireCalls(this.#o.label);
    for (const f of files) if (!fileName(f.name)) throw refuse(`${this.dir}/${f.name}`, "not a plain file name");
    const dfd = this.#openDir(c);
    try {
      const previous = readLinkAt(c, dfd, DATA, `${this.dir}/${DATA}`);
      const oldSet = previous !== null && SET.test(previous) ? previous : null;
      const oldNames = oldSet ? this.#namesIn(c, dfd, oldSet) : new Set<string>();
      const setName = `..${stamp()}.${crypto().randomBytes(4).toString("hex")}`;
      const links: string[] = [];
      try {
        this.#writeSet(c, dfd, setName, files);
        // Names new to this set get their DIR/NAME link before the switch: until then it
        // points at a name the current set lacks, as it lacked it before.
        for (const f of files) if (this.#linkName(c, dfd, f.name)) links.push(f.name);
        unlinkAt(c, dfd, DATA_TMP, false, `${this.dir}/${DATA_TMP}`);
        symlinkAt(c, setName, dfd, DATA_TMP, `${this.dir}/${DATA_TMP}`);
        fsyncSync(dfd);
        renameAt(c, dfd, DATA_TMP, DATA, `${this.dir}/${DATA}`); // the switch
      } catch (e) {
        for (const n of links) quietly(() => unlinkAt(c, dfd, n, false, n));
        quietly(() => unlinkAt(c, dfd, DATA_TMP, false, DATA_TMP));
        quietly(() => this.#removeSet(c, dfd, setName, new Set(files.map((f) => f.name))));
        throw fromNode(e, this.dir);
      }
      // Switched: what follows only tidies up, and a failure here leaves the new set in place.
      const now = new Set(files.map((f) => f.name));
      let removed = 0;
      for (const n of new Set([...oldNames, ...this.#names])) {
        if (now.has(n)) continue;
        if (readLinkAt(c, dfd, n, n) === `${DATA}/${n}`) {
          quietly(() => unlinkAt(c, dfd, n, false, n));
          removed++;
        }
      }
      this.#names = now;
      for (const stale of this.#staleSets(dfd, setName, oldSet)) quietly(() => this.#removeSet(c, dfd, stale, oldNames));
      return { written: files.length, removed };
    } finally {
      close(dfd);
    }
  }

  /**
   * Remove everything this writer put in place (a start that failed before the app ran): the
   * DIR/NAME links, `..data`, the set, and DIR itself when this writer created it. Best effort:
   * after a failed exec latchkey is the app user and may remove only the set's files.
   */
  remove(): void {
    const c = requireCalls(this.#o.label);
    let dfd: number;
    try {
      dfd = openDirectory(c, this.dir).fd;
    } catch {
      return;
    }
    try {
      const current = readLinkAt(c, dfd, DATA, DATA);
      for (const n of this.#names) if (readLinkAt(c, dfd, n, n) === `${DATA}/${n}`) quietly(() => unlinkAt(c, dfd, n, false, n));
      if (current !== null && SET.test(current)) {
        quietly(() => unlinkAt(c, dfd, DATA, false, DATA));
        quietly(() => this.#removeSet(c, dfd, current, this.#names));
      }
      this.#names = new Set();
    } finally {
      close(dfd);
    }
    if (this.#createdDir) {
      quietly(() => {
        const parent = openDirectory(c, dirname(this.dir)).fd;
        try {
          unlinkAt(c, parent, basename(this.dir), true, this.dir);
        } finally {
          close(parent);
        }
      });
    }
  }

  /** DIR, created if missing; refused if someone other than root or the app could write in it. */
  #openDir(c: FileCalls): number {
    const { fd, created } = openDirectory(c, this.dir, { createMode: 0o755 });
    try {
      const st = fstat(fd, this.dir);
      if (created) {
        // The app lists and reads it (its group); nobody else needs to see the names.
        this.#createdDir = true;
        fchownSync(fd, process.geteuid!(), this.#o.owner?.gid ?? process.getegid!());
        fchmodSync(fd, this.#o.owner ? 0o750 : 0o700);
        return fd;
      }
      const app = this.#o.owner;
      if ((st.mode & 0o002) !== 0) {
        throw refuse(this.dir, `is writable by every user (mode ${(st.mode & 0o7777).toString(8)}); refusing to write ${this.#o.label} files there: use a directory owned by root or the app user`);
      }
      if (st.uid !== 0 && st.uid !== process.geteuid!() && st.uid !== app?.uid) {
        throw refuse(this.dir, `is owned by uid ${st.uid}, neither root nor the app user; refusing to write ${this.#o.label} files there`);
      }
      if ((st.mode & 0o020) !== 0 && st.gid !== 0 && st.gid !== app?.gid && st.gid !== process.getegid!()) {
        throw refuse(this.dir, `is writable by group ${st.gid}, neither root's nor the app user's; refusing to write ${this.#o.label} files there`);
      }
      return fd;
    } catch (e) {
      close(fd);
      throw fromNode(e, this.dir);
    }
  }

  /** The set's directory and its files, each through its descriptor: created, written, owned, moded, synced. */
  #writeSet(c: FileCalls, dfd: number, setName: string, files: readonly FileSpec[]): void {
    const setPath = `${this.dir}/${setName}`;
    mkdirAt(c, dfd, setName, 0o700, setPath);
    const sfd = openAt(c, dfd, setName, DIR_FLAGS, 0, setPath);
    try {
      // Made by us a moment ago: if the app swapped in a directory of its own, it is not root's.
      if (fstat(sfd, setPath).uid !== process.geteuid!()) throw refuse(setPath, "was replaced while being written");
      const root = process.geteuid!() === 0;
      for (const f of files) {
        const path = `${setPath}/${f.name}`;
        const fd = openAt(c, sfd, f.name, NEW_FILE_FLAGS, 0o600, path);
        try {
          const data = typeof f.data === "string" ? Buffer.from(f.data, "utf8") : f.data;
          let off = 0;
          while (off < data.length) off += writeSync(fd, data, off, data.length - off);
          const owner = f.owner ?? this.#o.owner;
          if (owner && root) fchownSync(fd, owner.uid, owner.gid);
          fchmodSync(fd, f.mode ?? 0o400);
          fsyncSync(fd);
        } catch (e) {
          throw fromNode(e, path);
        } finally {
          close(fd);
        }
      }
      if (this.#o.owner && root) fchownSync(sfd, this.#o.owner.uid, this.#o.owner.gid);
      fchmodSync(sfd, 0o700);
      fsyncSync(sfd);
    } catch (e) {
      throw fromNode(e, setPath);
    } finally {
      close(sfd);
    }
  }

  /** Point DIR/NAME at ..data/NAME unless it already does; true when a link was made. */
  #linkName(c: FileCalls, dfd: number, name: string): boolean {
    const path = `${this.dir}/${name}`;
    const want = `${DATA}/${name}`;
    if (readLinkAt(c, dfd, name, path) === want) return false;
    const tmp = `.${name}.${crypto().randomBytes(4).toString("hex")}.link`;
    symlinkAt(c, want, dfd, tmp, path);
    try {
      renameAt(c, dfd, tmp, name, path); // over a file of the old layout (or an old link) in one step
    } catch (e) {
      quietly(() => unlinkAt(c, dfd, tmp, false, path));
      throw e;
    }
    return true;
  }

  /** The file names in a set directory (listed through its descriptor), else what this process wrote. */
  #namesIn(c: FileCalls, dfd: number, setName: string): Set<string> {
    const sfd = openAtIfExists(c, dfd, setName, DIR_FLAGS, setName);
    if (sfd === null) return new Set(this.#names);
    try {
      return new Set(listDir(sfd) ?? this.#names);
    } finally {
      close(sfd);
    }
  }

  /** Sets left by an earlier run (a crash between write and switch) and the one just replaced. */
  #staleSets(dfd: number, current: string, old: string | null): string[] {
    const all = listDir(dfd);
    const names = all ? all.filter((n) => SET.test(n)) : old ? [old] : [];
    return names.filter((n) => n !== current);
  }

  /** unlinkat each file of a set, then the set's directory; never follows anything. */
  #removeSet(c: FileCalls, dfd: number, setName: string, fallback: ReadonlySet<string>): void {
    const sfd = openAtIfExists(c, dfd, setName, DIR_FLAGS, setName);
    if (sfd === null) return;
    try {
      for (const n of listDir(sfd) ?? fallback) quietly(() => unlinkAt(c, sfd, n, false, n));
    } finally {
      close(sfd);
    }
    unlinkAt(c, dfd, setName, true, setName);
  }
}

function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // tidying up after the fact: the set in place is already right
  }
}

/** 2026_12_06_03_55_12 (UTC), as the kubelet names its sets: sortable, and says when. */
function stamp(): string {
  return new Date().toISOString().slice(0, 19).replace(/[-T:]/g, "_");
}

export { FileSetError };
