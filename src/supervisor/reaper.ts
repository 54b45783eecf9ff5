/**
 * Reaping orphans without stealing exit statuses from libuv.
 *
 * libuv reaps only the children it spawned, by waitpid(pid) on each. Orphans reparented to
 * us (as PID 1 or child subreaper) would stay zombies forever. waitpid(-1) would reap them
 * but also steal our own children's statuses from libuv, losing their `exit` events. So we
 * peek with waitid(P_ALL, WNOWAIT), which leaves the zombie in place: a pid libuv owns is
 * left for libuv (retry shortly), any other pid is reaped by waitpid(pid).
 *
 * When libuv has no child at all (the app started by posix_spawn, the default), there is no
 * status to steal: the reaper then reaps with waitpid(-1) as tini does, one system call per
 * zombie instead of a peek and a wait, and hands an adopted pid's status to its owner. An
 * orphan storm (bench/run orphans, issue 15) spends most of PID 1's time in these calls and
 * in waking up for SIGCHLD, and the zombies pile up while it lags.
 */
import { libc, libcLoadError, P_ALL, WEXITED, WNOHANG, WNOWAIT, PR_SET_CHILD_SUBREAPER, type Libc } from "../platform/libc.ts";
import type { Logger } from "../log/logger.ts";

/** Pids that libuv spawned for us (the exec shim, anything without FFI): never reap those ourselves. */
const owned = new Set<number>();
export function claimPid(pid: number): void {
  owned.add(pid);
}
export function releasePid(pid: number): void {
  owned.delete(pid);
}

/**
 * Pids latchkey started itself with posix_spawn (platform/spawn.ts): libuv does not know
 * them, so they are waited for here, by waitpid(pid) on each SIGCHLD, and their raw wait
 * status goes to whoever started them.
 */
const adopted = new Map<number, (status: number) => void>();
const adoptedStatus = Buffer.alloc(4);
let listening = false;

/**
 * Call before starting a process to adopt: the SIGCHLD listener must exist before the child
 * can exit, or the kernel discards the signal (SIGCHLD's default is to ignore it).
 */
export function prepareAdoption(): void {
  if (listening) return;
  listening = true;
  process.on("SIGCHLD", onSigchldAdopted);
}

/**
 * A libuv child keeps the event loop alive; an adopted pid has no handle, so a timer does,
 * while any adopted child runs. It also looks once a minute, in case a SIGCHLD was missed.
 */
let keepAlive: NodeJS.Timeout | null = null;

export function adoptPid(pid: number, onExit: (status: number) => void): void {
  adopted.set(pid, onExit);
  keepAlive ??= setInterval(collectAdopted, 60_000);
}

/** A started Reaper collects adopted pids itself, in the same pass (one SIGCHLD listener, not two). */
let reaping = false;

function onSigchldAdopted(): void {
  if (!reaping) collectAdopted();
}

function collectAdopted(): void {
  if (adopted.size === 0) return;
  const c = libc();
  if (!c) return;
  for (const [pid, onExit] of adopted) {
    const r = c.waitpid(pid, adoptedStatus, WNOHANG);
    if (r === 0) continue; // still running
    adopted.delete(pid);
    // -1 cannot happen (nobody else waits for these pids); if it does, say it died, do not hang.
    onExit(r === pid ? adoptedStatus.readInt32LE(0) : 0xff00);
  }
  if (adopted.size === 0 && keepAlive) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}

export type ReaperMode = "pid1" | "subreaper" | "none";

export class Reaper {
  readonly mode: ReaperMode;
  reaped = 0;
  #c: Libc | null;
  #info = Buffer.alloc(128);
  #status = Buffer.alloc(4);
  #retry: NodeJS.Timeout | null = null;
  #onSigchld = () => this.reap();

  constructor(log: Logger) {
    this.#c = libc();
    if (!this.#c) {
      this.mode = "none";
      log.warn(`cannot reap orphaned processes: ${libcLoadError() ?? "node:ffi is unavailable"}; zombies will accumulate` +
        " (run the single executable, or Node 26+ without --no-experimental-ffi; under --permission add --allow-ffi)");
      return;
    }
    if (process.pid === 1) this.mode = "pid1";
    else if (this.#c.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0) this.mode = "subreaper";
    else {
      this.mode = "none";
      log.warn(`cannot reap orphaned processes: not PID 1 and prctl(PR_SET_CHILD_SUBREAPER) failed (errno ${this.#c.errno()}); zombies will accumulate`);
    }
  }

  start(): void {
    if (this.mode === "none") return;
    process.on("SIGCHLD", this.#onSigchld);
    reaping = true;
  }

  stop(): void {
    process.off("SIGCHLD", this.#onSigchld);
    reaping = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
  }

  /** Reap every zombie that is not libuv's. Returns how many were reaped. */
  reap(): number {
    const c = this.#c;
    if (!c || this.mode === "none") return 0;
    let n = 0;
    // Nothing of libuv's to steal: reap whatever exited, tini's way (see the top of the file).
    // Synchronous with the check: no child_process spawn can come in between.
    while (owned.size === 0) {
      const pid = c.waitpid(-1, this.#status, WNOHANG);
      if (pid <= 0) {
        // 0: children left, none exited; -1: ECHILD. Adopted pids are all collected by now
        // (a lost one would be found by the minute's look).
        this.reaped += n;
        return n;
      }
      const onExit = adopted.get(pid);
      if (onExit) {
        adopted.delete(pid);
        if (adopted.size === 0 && keepAlive) {
          clearInterval(keepAlive);
          keepAlive = null;
        }
        onExit(this.#status.readInt32LE(0));
      } else n++;
    }
    for (;;) {
      this.#info.fill(0);
      if (c.waitid(P_ALL, 0, this.#info, WEXITED | WNOHANG | WNOWAIT) !== 0) break; // ECHILD: no children at all
      const pid = this.#info.readInt32LE(16);
      if (pid === 0) break; // children exist, none has exited
      if (adopted.has(pid)) {
        collectAdopted();
        continue;
      }
      if (owned.has(pid)) {
        // libuv's zombie hides the others from the peek until libuv collects it, which it
        // does on the same SIGCHLD; look again shortly.
        this.#retry ??= setTimeout(() => {
          this.#retry = null;
          this.reap();
        }, 5);
        break;
      }
      if (c.waitpid(pid, this.#status, WNOHANG) === pid) n++;
      else break;
    }
    this.reaped += n;
    return n;
  }
}
