/**
 * Resolve `--user USER[:GROUP]` the way gosu and Docker do, from the image's own
 * /etc/passwd and /etc/group (never NSS: the image may have no libnss, and the answer
 * must be the same as the files the image author wrote).
 */
import { readRegularFile } from "../sources/file/read.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";

export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary groups to set (includes the primary gid, as initgroups does). */
  groups: number[];
  home: string;
  /** User name when it was found in /etc/passwd. */
  name?: string;
  /** As the user wrote it, for messages. */
  spec: string;
}

export interface EtcFiles {
  passwd: string;
  group: string;
}
export const DEFAULT_ETC: EtcFiles = { passwd: "/etc/passwd", group: "/etc/group" };

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 4294967294; // (uid_t)-1 means "unchanged" to the kernel, so it is not an id.

export function resolveIdentity(spec: string, etc: EtcFiles = DEFAULT_ETC): Identity {
  const parts = spec.split(":");
  if (parts.length > 2 || parts[0] === "" || parts[1] === "") {
    throw new LatchkeyError("usage", ExitCode.USAGE, `--user: invalid value '${spec}': expected USER, UID, USER:GROUP or UID:GID`);
  }
  const [userPart, groupPart] = parts as [string, string | undefined];
  const passwd = readTable(etc.passwd, parsePasswd);
  const groups = readTable(etc.group, parseGroup);

  let user: PasswdEntry | undefined;
  let uid: number;
  if (isNumeric(userPart)) {
    uid = parseId(userPart, "uid", spec);
    user = passwd?.find((p) => p.uid === uid);
  } else {
    user = passwd?.find((p) => p.name === userPart);
    if (!user) {
      throw new LatchkeyError("no_user", ExitCode.NO_USER,
        `--user: unknown user '${userPart}' (not in ${etc.passwd}${passwd ? "" : ", which is missing"})`);
    }
    uid = user.uid;
  }

  let gid: number;
  let supplementary: number[];
  if (groupPart !== undefined) {
    if (isNumeric(groupPart)) gid = parseId(groupPart, "gid", spec);
    else {
      const g = groups?.find((x) => x.name === groupPart);
      if (!g) {
        throw new LatchkeyError("no_user", ExitCode.NO_USER,
          `--user: unknown group '${groupPart}' (not in ${etc.group}${groups ? "" : ", which is missing"})`);
      }
      gid = g.gid;
    }
    // An explicit group means exactly that group, as gosu and `docker run --user u:g` do.
    supplementary = [gid];
  } else {
    // No passwd entry for a numeric uid: Docker and gosu run it with gid 0.
    gid = user ? user.gid : 0;
    supplementary = [gid];
    if (user && groups) {
      for (const g of groups) if (g.members.includes(user.name) && !supplementary.includes(g.gid)) supplementary.push(g.gid);
    }
  }
  return { uid, gid, groups: supplementary, home: user?.home || "/", ...(user ? { name: user.name } : {}), spec };
}

function isNumeric(s: string): boolean {
  return /^\d+$/.test(s);
}

function parseId(s: string, what: string, spec: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > MAX_ID) {
    throw new LatchkeyError("usage", ExitCode.USAGE, `--user: ${what} '${s}' in '${spec}' is out of range (0-${MAX_ID})`);
  }
  return n;
}

function readTable<T>(path: string, parse: (line: string) => T | null): T[] | null {
  let text: string;
  try {
    // Non-blocking, regular files only (sources/file/read.ts): a FIFO planted as the image's
    // /etc/passwd must not hang startup. 64 MiB: an LDAP dump of a large site, not more.
    text = readRegularFile(path, 64 * 1024 * 1024).bytes.toString("utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new LatchkeyError("os", ExitCode.OS, `cannot read ${path}: ${(e as Error).message}`);
  }
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const v = parse(line);
    if (v) out.push(v);
  }
  return out;
}

export function parsePasswd(line: string): PasswdEntry | null {
  const f = line.split(":");
  if (f.length < 7 || !isNumeric(f[2]!) || !isNumeric(f[3]!)) return null;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}

export function parseGroup(line: string): GroupEntry | null {
  const f = line.split(":");
  if (f.length < 4 || !isNumeric(f[2]!)) return null;
  return { name: f[0]!, gid: Number(f[2]), members: f[3]!.split(",").map((m) => m.trim()).filter(Boolean) };
}
