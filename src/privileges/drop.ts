/**
 * Changing identity, in the order the kernel requires (groups and gid while still root,
 * uid last), then checking that it took: a drop that silently failed would run the app as
 * root, so every id is read back and regaining root must fail.
 */
import { readFileSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "../log/logger.ts";
import { libc, threadCredentials } from "../platform/libc.ts";
import { resealDumpable, signalAs } from "../platform/boundary.ts";
import { log } from "../log/logger.ts";

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
    resealDumpable(c);
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
  return capabilitySet("CapEff");
}

/**
 * A capability set of the main thread (/proc/self/status shows the thread group leader's,
 * the thread that runs JavaScript); null when /proc cannot tell.
 */
function capabilitySet(name: "CapEff" | "CapAmb"): bigint | null {
  try {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, "m").exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}

// ---- The app's user on one thread, for one posix_spawn or execve (no second runtime start) ----

/**
 * How latchkey starts the app as another user without starting a second runtime to drop
 * privileges in (the exec shim, launch/shim.ts, ~1.1-1.5 × a whole latchkey start).
 *
 * The kernel keeps credentials per thread; glibc's set*id functions make every thread follow
 * (privileges/boundary.ts), the bare system calls change only the caller. So only the main
 * thread (the one that runs JavaScript and calls posix_spawn and execve) takes the app's
 * groups and gids and uids, and only for that call; libuv's threads stay root throughout, so
 * a read of a root-only file in flight meanwhile is unaffected.
 *
 * - "spawn" (supervise mode): real uid and gid become the app's; effective and saved stay
 *   root, so the thread keeps its capabilities (the kernel clears them only when no id is 0
 *   any more) and can switch back. posix_spawn's POSIX_SPAWN_RESETIDS makes the child set
 *   its effective ids to its real ones (glibc does it in the child with the bare system
 *   calls), and execve sets the saved ids to the effective ones: the app's real, effective,
 *   saved and filesystem ids are all the user's.
 * - "exec" (--exec): real and effective ids become the app's, the saved ones stay root (so
 *   a failed execve can be undone), and execve makes the saved ids the effective ones.
 *
 * Either way the app's program is entered with no id 0 in its real and effective uids, so
 * the kernel computes its capabilities as for any unprivileged program: permitted and
 * effective only from the file's own capabilities and the ambient set, none from root. The
 * ambient set survives such an execve, which gosu's setuid would have cleared: the thread
 * switch is only used with an empty ambient set (`canSwitchThread`), else the caller falls
 * back to the shim (supervise) or to glibc's whole-process drop (exec). Securebits change
 * nothing here: they only govern how set*id calls treat capabilities, and execve recomputes
 * them for an unprivileged program whatever they are (KEEP_CAPS is cleared by execve).
 *
 * The window: from the switch to the way back latchkey's main thread has the app's real
 * uid, and the kernel lets a process signal another whose real (or saved) uid is its
 * sender's real or effective uid. The way back runs once posix_spawn returns, which is
 * after the app's execve: the app itself already runs in that window, and on a loaded
 * machine the window lasts until latchkey's thread is scheduled again (milliseconds, seen
 * here: test/security/process-parent-death.test.ts caught an app's `kill -KILL $PPID` at its
 * start). So supervise mode switches the thread only as PID 1, where the kernel drops SIGKILL
 * and SIGSTOP sent from inside the namespace; what the app's user can still send in the window
 * are signals latchkey handles: forwarded to the app itself, or a stop signal that stops it
 * (as the app could by exiting). From outside the container's PID namespace a host process
 * with the app's uid could SIGKILL latchkey in the window (ending the container). Not as
 * PID 1, the exec shim drops privileges in the child, and latchkey's ids never change. In
 * --exec mode the window ends with latchkey's own execve: a process of the app's user could
 * only keep the app from starting. It gains no privilege in any case: latchkey is not
 * dumpable (no ptrace, no /proc/PID/mem or environ).
 */
export type SwitchMode = "spawn" | "exec";

/** (gid_t)-1: "leave this id unchanged". */
const KEEP = UNCHANGED;

/** Does latchkey already run as `id` (ids and groups)? Then no switch is needed. */
export function alreadyIdentity(id: Identity): boolean {
  return process.getuid!() === id.uid && process.geteuid!() === id.uid && process.getgid!() === id.gid &&
    process.getegid!() === id.gid && sameSet(process.getgroups!(), id.groups);
}

let ambientEmpty: boolean | undefined;

/**
 * Can the app's start switch only the main thread (x86-64 with node:ffi, latchkey root with
 * an empty ambient capability set)? The answer does not change in a run: latchkey never
 * changes its ambient set.
 */
export function canSwitchThread(): boolean {
  if (threadCredentials() === null) return false;
  ambientEmpty ??= capabilitySet("CapAmb") === 0n;
  return ambientEmpty;
}

export interface ThreadSwitch {
  /**
   * Back to latchkey's own ids and groups, checked. If they cannot be restored latchkey must
   * not go on with the app's ids on one thread: it kills `app` (when started) and exits.
   */
  back(app?: number): void;
}

/**
 * The main thread becomes `id` (see SwitchMode), checked by reading every id back. Throws
 * NO_PERM with the thread back as it was when a step fails; call `back()` after the
 * posix_spawn, or after an execve that failed.
 */
export function switchThread(id: Identity, mode: SwitchMode): ThreadSwitch {
  const tc = threadCredentials();
  if (!tc) throw new LatchkeyError("no_perm", ExitCode.NO_PERM, `--user ${id.spec}: cannot switch one thread's ids on this platform`);
  const uids = tc.getresuid();
  const gids = tc.getresgid();
  const groups = tc.getgroups();
  if (!uids || !gids || !groups) {
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM, `--user ${id.spec}: cannot read latchkey's own ids (errno ${tc.errno()})`);
  }
  const back = (app?: number) => {
    // uid first: in "exec" mode the effective uid is the app's until this, and the other two
    // calls need root's capabilities (the kernel gives them back with effective uid 0).
    const ok = tc.setresuid(uids[0], uids[1], uids[2]) === 0 && tc.setresgid(gids[0], gids[1], gids[2]) === 0 &&
      tc.setgroups(groups) === 0 && same(tc.getresuid(), uids) && same(tc.getresgid(), gids) && sameSet(tc.getgroups() ?? [], groups);
    if (!ok) abortMixed(tc.errno(), app);
    resealDumpable(); // the switch reset dumpability to fs.suid_dumpable (boundary.ts)
  };
  const effUid = mode === "exec" ? id.uid : KEEP;
  const effGid = mode === "exec" ? id.gid : KEEP;
  // groups and gids while the thread is still root, the uid last (as setpriv and gosu do)
  const failed = tc.setgroups(id.groups) !== 0 ? "setgroups"
    : tc.setresgid(id.gid, effGid, KEEP) !== 0 ? "setresgid"
    : tc.setresuid(id.uid, effUid, KEEP) !== 0 ? "setresuid" : null;
  const errno = failed ? tc.errno() : 0;
  const want = (own: [number, number, number], to: number): [number, number, number] => [to, mode === "exec" ? to : own[1], own[2]];
  resealDumpable(); // in "exec" mode the effective ids changed; an execve that fails returns here
  const took = !failed && same(tc.getresuid(), want(uids, id.uid)) && same(tc.getresgid(), want(gids, id.gid)) && sameSet(tc.getgroups() ?? [], id.groups);
  if (!took) {
    back();
    const got = tc.getresuid();
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM,
      `--user ${id.spec}: cannot switch to uid ${id.uid} gid ${id.gid}: ${failed ? `${failed} failed (errno ${errno})` : `the ids did not take (uid ${got?.join("/") ?? "?"})`}`);
  }
  return { back };
}

function same(a: readonly number[] | null, b: readonly number[]): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** latchkey's main thread could not take its own ids back: stop everything, now. */
function abortMixed(errno: number, app?: number): never {
  const c = libc()!;
  if (app !== undefined) c.kill(app, 9); // it must not run on unsupervised
  log.error(`cannot take back latchkey's own ids after starting the app (errno ${errno}); stopping`, { code: "no_perm" });
  return c._exit(ExitCode.NO_PERM);
}
