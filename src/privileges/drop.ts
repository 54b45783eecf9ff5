/**
 * Changing identity, in the order the kernel requires (groups and gid while still root,
 * uid last), then checking that it took: a drop that silently failed would run the app as
 * root, so every id is read back and regaining root must fail.
 */
import { readFileSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "../log/logger.ts";
import { libc } from "../platform/libc.ts";
import { signalAs } from "../platform/boundary.ts";

const CAP_KILL = 5;
const CAP_SETGID = 6;
const CAP_SETUID = 7;
/** (uid_t)-1: "leave this id unchanged" to setresuid. */
const UNCHANGED = 0xffffffff;

/** Checked in the supervisor before anything starts, so the error comes before the app does. */
export function assertCanBecome(id: Identity): void {
  const uid = process.getuid!();
  const gid = process.getgid!();
  if (uid === id.uid && gid === id.gid && sameSet(process.getgroups!(), id.groups)) return;
  if (uid !== 0 && uid === id.uid) {
    // Only root changes groups: a latchkey already running as the user cannot drop the extra
    // groups it has (nor add missing ones), and the app would run with groups nobody asked for.
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `--user ${id.spec}: latchkey already runs as uid ${uid} but with gid ${gid} and groups ${groupList(process.getgroups!())}, not gid ${id.gid} and groups ${groupList(id.groups)};` +
        " only root can change groups (start latchkey as root, start it with exactly these groups, or leave out --user)");
  }
  if (uid !== 0) {
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `--user ${id.spec}: latchkey runs as uid ${uid}, not root, and cannot switch to uid ${id.uid} gid ${id.gid}` +
        ` (run latchkey as root, or leave out --user)`);
  }
  const caps = effectiveCaps();
  if (caps !== null) {
    const missing = [];
    if (!(caps & (1n << BigInt(CAP_SETUID))) && id.uid !== uid) missing.push("CAP_SETUID");
    if (!(caps & (1n << BigInt(CAP_SETGID)))) missing.push("CAP_SETGID");
    if (missing.length) {
      throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
        `--user ${id.spec}: latchkey runs as root without ${missing.join(" and ")}, which it needs to switch user` +
          ` (add them back, e.g. --cap-add SETUID --cap-add SETGID)`);
    }
  }
}

/** Become `id` in this process. Throws NO_PERM if any step fails or does not verify. */
export function becomeIdentity(id: Identity): void {
  const cur = process.getuid!();
  const already = cur === id.uid && process.getgid!() === id.gid && sameSet(process.getgroups!(), id.groups);
  if (already) return;
  try {
    process.setgroups!(id.groups);
    process.setgid!(id.gid);
    process.setuid!(id.uid);
  } catch (e) {
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `--user ${id.spec}: cannot switch to uid ${id.uid} gid ${id.gid}: ${(e as Error).message}`, { cause: e });
  }
  verify(id);
}

function verify(id: Identity): void {
  const got = {
    uid: process.getuid!(), euid: process.geteuid!(), gid: process.getgid!(), egid: process.getegid!(),
    groups: process.getgroups!(),
  };
  const ok = got.uid === id.uid && got.euid === id.uid && got.gid === id.gid && got.egid === id.gid && sameSet(got.groups, id.groups);
  let regained = false;
  if (ok && id.uid !== 0) {
    try {
      process.setuid!(0);
      regained = true;
    } catch {
      // expected: an unprivileged process cannot become root again
    }
  }
  if (!ok || regained) {
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `--user ${id.spec}: privilege drop did not take (uid ${got.uid}/${got.euid}, gid ${got.gid}/${got.egid}, groups ${got.groups.join(",")}${regained ? ", root regained" : ""})`);
  }
}

/**
 * Keep the supervisor able to signal an app that runs as another user. Root may signal any
 * process only with CAP_KILL; `--cap-drop ALL --cap-add SETUID --cap-add SETGID` (the hardened
 * set) leaves it out, and then every forwarded SIGTERM fails with EPERM and `docker stop` ends
 * in SIGKILL. The kernel also lets a sender whose real or effective uid equals the target's
 * real or saved uid signal it, so the supervisor's main thread takes the app's uid as its
 * effective uid for each kill(2) and gives it back at once (platform/boundary.ts signalAs):
 * latchkey stays root (it still reads root-only secrets on rotation and starts the app through
 * the exec shim), and the app cannot signal latchkey, since none of latchkey's real and saved
 * uids is the app's. Where one thread's uid cannot be set alone (off x86-64), the supervisor
 * takes the app's uid as its real uid instead, and then the app can signal latchkey (a
 * SIGKILL would leave it unsupervised: --parent-death-signal covers that). Done only when
 * CAP_KILL is missing: with CAP_KILL nothing changes.
 */
export function keepSignalReach(id: Identity, log: Logger): void {
  if (process.getuid!() !== 0 || id.uid === 0) return;
  const caps = effectiveCaps();
  if (caps === null || caps & (1n << BigInt(CAP_KILL))) return;
  if (signalAs(id.uid)) {
    log.debug("no CAP_KILL: the supervisor signals the app as its uid, for each signal", { uid: id.uid });
    return;
  }
  const c = libc();
  if (c && c.setresuid(id.uid, UNCHANGED, UNCHANGED) === 0) {
    log.debug("no CAP_KILL: supervisor's real uid set to the app's so it can signal the app", { uid: id.uid });
    return;
  }
  log.warn(`latchkey lacks CAP_KILL and cannot signal the app running as uid ${id.uid}: stop signals will not reach it (add CAP_KILL, or run latchkey as that user)`);
}

function groupList(g: number[]): string {
  return [...new Set(g)].sort((a, b) => a - b).join(",") || "none";
}

function sameSet(a: number[], b: number[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

function effectiveCaps(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}
