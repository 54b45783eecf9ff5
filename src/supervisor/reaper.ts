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
 * zombie instead of a peek and a wait, and hands an adopted pid's status to its owner.
 *
 * Storms. On SIGCHLD the kernel runs libuv's handler for each exit, which writes to libuv's
 * signal pipe and wakes the loop into a JS pass that often finds one zombie: in an orphan
 * storm (bench/run orphans, issue 15: 10,000 orphans in ~2.5 s) that cost 3x tini's CPU and,
 * on a loaded machine, let ~100 zombies pile up. So when passes reap STORM_ENTER orphans
 * within STORM_WINDOW_MS, the reaper removes the process's only SIGCHLD listener (libuv then
 * puts back the default disposition and the kernel stops waking us) and reaps every
 * STORM_PERIOD_MS instead, several zombies a pass, until STORM_QUIET passes in a row find
 * none; then it listens again and reaps once at once (an exit in between raised a SIGCHLD
 * nobody heard). Measured here (10,000 orphans, no other load): a 1 ms period cost more CPU
 * than 2 ms (0.13 vs 0.11 s; tini 0.07), 5 ms let ~25 zombies pile up (2 ms: ~10). The
 * rules hold in both modes: a pass takes nothing libuv owns (a libuv child keeps libuv's
 * own SIGCHLD handler, so libuv still hears its exits at once), and an adopted pid's exit
 * (the app's, by default) is found by the next pass, at most STORM_PERIOD_MS late.
 */
import { libc, libcLoadError, P_ALL, WEXITED, WNOHANG, WNOWAIT, PR_SET_CHILD_SUBREAPER, type Libc } from "../platform/libc.ts";
import type { Logger } from "../log/logger.ts";
import { now } from "../platform/clock.ts";

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

/**
 * One SIGCHLD listener for the whole process, which a started Reaper drives (it collects
 * adopted pids in the same pass) and otherwise collects adopted pids. One, so that a storm
 * can remove it: with no JS listener left, libuv puts back the default disposition and the
 * kernel stops waking us for each exit.
 */
let adoptionPrepared = false;
let active: Reaper | null = null;
let subscribed = false;

function onSigchld(): void {
  if (active) active.reap();
  else collectAdopted();
}

function subscribe(on: boolean): void {
  if (on === subscribed) return;
  subscribed = on;
  if (on) process.on("SIGCHLD", onSigchld);
  else process.off("SIGCHLD", onSigchld);
}

/**
 * Call before starting a process to adopt: the SIGCHLD listener must exist before the child
 * can exit, or the kernel discards the signal (SIGCHLD's default is to ignore it). A Reaper
 * in a storm polls instead, and finds the exit on its next pass.
 */
export function prepareAdoption(): void {
  adoptionPrepared = true;
  if (!active?.storming) subscribe(true);
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

/** A storm: this many orphans reaped within STORM_WINDOW_MS of the first (see the top of the file). */
const STORM_ENTER = 8;
const STORM_WINDOW_MS = 10;
/** While it lasts, a pass every STORM_PERIOD_MS; it ends after STORM_QUIET passes in a row found nothing. */
const STORM_PERIOD_MS = 2;
const STORM_QUIET = 3;

export class Reaper {
  readonly mode: ReaperMode;
  reaped = 0;
  /** Storms seen so far (each one a switch to polling and back). */
  storms = 0;
  #c: Libc | null;
  #log: Logger;
  #stormReaped = 0;
  #info = Buffer.alloc(128);
  #status = Buffer.alloc(4);
  #retry: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #quiet = 0;
  #windowStart = 0;
  #windowCount = 0;

  constructor(log: Logger) {
    this.#log = log;
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

  /** Polling on a timer through a storm, SIGCHLD unheard; otherwise reaping on each SIGCHLD. */
  get storming(): boolean {
    return this.#poll !== null;
  }

  start(): void {
    if (this.mode === "none") return;
    active = this;
    subscribe(true);
  }

  stop(): void {
    if (active === this) active = null;
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    // Adopted pids still need their SIGCHLD (the minute's look is only a backstop).
    subscribe(adoptionPrepared);
  }

  /** Many orphans in a short time: stop listening (the kernel stops waking us) and poll. */
  #stormBegins(): void {
    this.storms++;
    this.#quiet = 0;
    this.#stormReaped = this.reaped;
    subscribe(false);
    this.#log.debug("orphan storm: reaping on a timer instead of on SIGCHLD", { periodMs: STORM_PERIOD_MS });
    // unref: the app's handle (libuv child) or the adopted pids' keep-alive holds the loop,
    // never this timer on its own.
    this.#poll = setInterval(() => {
      if (this.reap() > 0) this.#quiet = 0;
      else if (++this.#quiet >= STORM_QUIET) this.#stormEnds();
    }, STORM_PERIOD_MS).unref();
  }

  #stormEnds(): void {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    this.#windowCount = 0;
    subscribe(true);
    this.#log.debug("orphan storm over: reaping on SIGCHLD again", { reaped: this.reaped - this.#stormReaped });
    // An exit between the last pass and the listener raised a SIGCHLD nobody heard.
    this.reap();
  }

  /** A SIGCHLD pass reaped `n`: count it toward a storm. */
  #pace(n: number): void {
    const t = now();
    if (t - this.#windowStart > STORM_WINDOW_MS) {
      this.#windowStart = t;
      this.#windowCount = 0;
    }
    this.#windowCount += n;
    if (this.#windowCount >= STORM_ENTER && active === this) this.#stormBegins();
  }

  /** Reap every zombie that is not libuv's. Returns how many were reaped. */
  reap(): number {
    const n = this.#reapAll();
    this.reaped += n;
    if (n > 0 && !this.#poll) this.#pace(n);
    return n;
  }

  #reapAll(): number {
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
    return n;
  }
}
