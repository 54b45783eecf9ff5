/**
 * The process boundary between root latchkey and an app that may be compromised.
 *
 * latchkey holds every secret (several copies each, in V8's heap) and the bootstrap
 * credentials (VAULT_TOKEN, AWS keys) in its environ. So latchkey itself is not dumpable and
 * dumps no core: a crash would write hundreds of MB of secrets into the working directory,
 * and a dumpable process's /proc/PID/environ, mem and maps are readable by any process of
 * the same uid (an app started without --user, or one that shares latchkey's uid).
 * PR_SET_DUMPABLE 0 makes the kernel refuse both (ptrace_may_access); RLIMIT_CORE 0 is the
 * second lock, for a core_pattern pipe that ignores dumpability (suid_dumpable 2).
 *
 * The app gets back what it would have had: execve makes a readable, non-setuid program
 * dumpable again, and its RLIMIT_CORE is restored before it starts (only the soft limit
 * was lowered, so even an unprivileged latchkey can raise it back).
 *
 * Descriptors: the app gets 0, 1, 2 and those named with --pass-fd, nothing else. Whatever
 * latchkey inherited (a CI runner's pipe, a socket the parent leaked, a root-opened file) is
 * marked close-on-exec at start; Node opens all of its own close-on-exec.
 */
import { readdirSync, readlinkSync } from "node:fs";
import {
  CLOSE_RANGE_CLOEXEC, libc, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, RLIMIT_CORE, type Libc,
} from "./libc.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** RLIMIT_CORE as latchkey found it (soft, hard; decimal strings: JSON carries them to the shim). */
export interface CoreLimit {
  soft: string;
  hard: string;
}

let original: CoreLimit | undefined;
let parentAtStart = 0;

/**
 * Make this process non-dumpable with no core, remembering the core limit for the app.
 * Called first thing by every latchkey process that will hold a secret (main, the exec shim).
 * Returns false when FFI is unavailable (the .cjs bundle without --experimental-ffi).
 */
export function sealSelf(): boolean {
  parentAtStart = process.ppid;
  const c = libc();
  if (!c) return false;
  c.prctl(PR_SET_DUMPABLE, 0n, 0n, 0n, 0n);
  const old = Buffer.alloc(16);
  if (c.prlimit(0, RLIMIT_CORE, null, old) === 0) {
    original = { soft: String(old.readBigUInt64LE(0)), hard: String(old.readBigUInt64LE(8)) };
    if (old.readBigUInt64LE(0) !== 0n) c.prlimit(0, RLIMIT_CORE, rlimit(0n, old.readBigUInt64LE(8)), null);
  }
  return true;
}

/** latchkey's parent when it started (0 as PID 1): with --exec, the app's parent. */
export function startParent(): number {
  return parentAtStart;
}

/** The core limit latchkey started with: the app's (undefined when sealSelf did not run). */
export function appCoreLimit(): CoreLimit | undefined {
  return original;
}

/** Give this process the app's core limit back (just before execve). */
export function restoreCoreLimit(limit = original): void {
  const c = libc();
  if (!c || !limit) return;
  c.prlimit(0, RLIMIT_CORE, rlimit(BigInt(limit.soft), BigInt(limit.hard)), null);
}

/**
 * Run `spawn` with the app's core limit in place: a child copies the limits at clone time
 * and posix_spawn runs none of our code in the child to restore it there. For the moment
 * of the call latchkey has its old limit again, but it stays non-dumpable, which alone stops
 * a core.
 */
export function withAppCoreLimit<T>(spawn: () => T): T {
  const c = libc();
  const limit = original;
  if (!c || !limit || limit.soft === "0") return spawn();
  restoreCoreLimit(limit);
  try {
    return spawn();
  } finally {
    c.prlimit(0, RLIMIT_CORE, rlimit(0n, BigInt(limit.hard)), null);
  }
}

function rlimit(soft: bigint, hard: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(soft, 0);
  b.writeBigUInt64LE(hard, 8);
  return b;
}

/**
 * Check the --pass-fd descriptors before anything starts: they must be open, and not one of
 * the event loop's own (epoll, eventfd, io_uring: an anonymous inode), which would be there
 * when latchkey's parent did not open the one named. Close-on-exec cannot tell: Node marks
 * inherited descriptors 3-16 close-on-exec at its start (seen on Node 26), so a
 * descriptor passed on purpose may carry the flag too.
 */
export function checkPassFds(fds: readonly number[], origin: string): void {
  const c = libc();
  if (!c) return; // without FFI nothing is marked or checked (the .cjs bundle)
  for (const fd of fds) {
    if (c.fcntl(fd, F_GETFD, 0) === -1) throw new LatchkeyError("usage", ExitCode.USAGE, `${origin}: descriptor ${fd} is not open`);
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc: take it as inherited
    }
    if (target.startsWith("anon_inode:")) {
      throw new LatchkeyError("usage", ExitCode.USAGE,
        `${origin}: descriptor ${fd} is latchkey's own (its event loop's), not one latchkey was started with`);
    }
  }
}

/**
 * Mark every descriptor from 3 up close-on-exec, except `keep` (cleared). One close_range
 * (Linux 5.11); before that, each open fd from /proc/self/fd. Called at start, so that
 * nothing latchkey starts (hooks, the app) inherits what latchkey inherited, and again
 * by the process that execs the app.
 */
export function sealDescriptors(keep: readonly number[] = []): void {
  const c = libc();
  if (!c) return;
  if (c.closeRange(3, 0xffffffff, CLOSE_RANGE_CLOEXEC) !== 0) {
    let fds: string[];
    try {
      fds = readdirSync("/proc/self/fd");
    } catch {
      fds = [];
    }
    for (const name of fds) {
      const fd = Number(name);
      if (fd < 3) continue;
      const flags = c.fcntl(fd, F_GETFD, 0);
      if (flags !== -1 && !(flags & FD_CLOEXEC)) c.fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
  setInheritable(c, keep, true);
}

/** Clear (or set back) close-on-exec on the passed descriptors, around a spawn. */
export function setInheritable(c: Libc, fds: readonly number[], inheritable: boolean): void {
  for (const fd of fds) {
    const flags = c.fcntl(fd, F_GETFD, 0);
    if (flags !== -1) c.fcntl(fd, F_SETFD, inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC);
  }
}

/**
 * PR_SET_NO_NEW_PRIVS: execve grants no privilege from then on (setuid/setgid bits and file
 * capabilities are ignored: sudo, su, ping stop elevating). Inherited by every child and
 * irreversible. Throws when it cannot be set: the user asked for it.
 */
export function noNewPrivileges(): void {
  const c = libc();
  if (!c || c.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) !== 0) {
    throw new LatchkeyError("os", ExitCode.OS,
      `--no-new-privileges: prctl(PR_SET_NO_NEW_PRIVS) failed${c ? ` (errno ${c.errno()})` : ": node:ffi is unavailable (run the single executable)"}`);
  }
}

/**
 * Ask the kernel to send `sig` to this process when its parent dies, then check the parent
 * has not died already (the signal is only sent for a death after the prctl): if the parent
 * is no longer `parent`, act as if the signal had come. Must run after the last uid change:
 * the kernel clears the setting when the effective ids change.
 */
export function parentDeathSignal(sig: number, parent: number): void {
  const c = libc();
  if (!c || c.prctl(PR_SET_PDEATHSIG, BigInt(sig), 0n, 0n, 0n) !== 0) {
    throw new LatchkeyError("os", ExitCode.OS,
      `--parent-death-signal: prctl(PR_SET_PDEATHSIG) failed${c ? ` (errno ${c.errno()})` : ": node:ffi is unavailable (run the single executable)"}`);
  }
  if (process.ppid !== parent) {
    c.kill(process.pid, sig);
    c._exit(128 + sig); // a signal this process handles or ignores: it still must not start the app
  }
}

/**
 * The uid the supervisor signals the app as, when it lacks CAP_KILL (privileges/drop.ts
 * keepSignalReach). The kernel lets a sender signal a process when the sender's real or
 * effective uid equals the target's real or saved uid. Only the main thread takes the app's
 * uid, as its effective uid, for the kill(2) alone (the bare setresuid system call changes
 * one thread; glibc's would change them all, and a libuv thread reading a root-only file
 * meanwhile would fail): latchkey's real and saved uids stay 0, so the app, whose ids are
 * all its own, cannot signal latchkey back (a SIGKILL would leave it unsupervised).
 */
let signalUid: number | undefined;
const UNCHANGED = 0xffffffff;

/**
 * After any change of an effective uid or gid, even one thread's, the kernel sets the whole
 * process's dumpability to fs.suid_dumpable (commit_creds): 1 on some hosts, which would make
 * latchkey dumpable again, its environ and memory readable by processes of its uid. So
 * PR_SET_DUMPABLE 0 follows every switch, the one to the app's uid too (for the kill's length).
 */
export function resealDumpable(c: Pick<Libc, "prctl"> | null = libc()): void {
  c?.prctl(PR_SET_DUMPABLE, 0n, 0n, 0n, 0n);
}

/** Switch to signalling as `uid`; false (nothing changed) where a thread's uid cannot be set alone. */
export function signalAs(uid: number): boolean {
  const c = libc();
  if (!c || c.setresuidThread(UNCHANGED, uid, UNCHANGED) !== 0) return false;
  resealDumpable(c);
  if (c.setresuidThread(UNCHANGED, 0, UNCHANGED) !== 0) {
    throw new LatchkeyError("no_perm", ExitCode.NO_PERM, `cannot take back uid 0 after signalling as uid ${uid}`);
  }
  resealDumpable(c);
  signalUid = uid;
  return true;
}

/** Run `send` (a kill) as the signalling uid, if one is set. */
export function asSignalSender<T>(send: () => T): T {
  const c = signalUid === undefined ? null : libc();
  if (!c) return send();
  c.setresuidThread(UNCHANGED, signalUid!, UNCHANGED);
  resealDumpable(c);
  try {
    return send();
  } finally {
    // cannot fail: the real and saved uids are 0. If it did, latchkey must not go on as the app's uid.
    if (c.setresuidThread(UNCHANGED, 0, UNCHANGED) !== 0) c._exit(70);
    resealDumpable(c);
  }
}
