/**
 * The runner decides what happens to the app over its lifetime in supervise mode, beyond the
 * first start: restarts onto a new environment (rotation), reload signals, and restarts after
 * the app exits on its own (--restart-on-exit). It plugs into supervise() through its hooks;
 * supervise keeps owning OS signals and the exit code, Child keeps knowing how.
 *
 * Rules it enforces:
 * - one restart at a time; the old app and its whole process group are gone before the new
 *   app starts (no overlap on ports, locks, sessions);
 * - a stop signal from outside wins over everything in flight: no new app is started after
 *   it, waits (splay, backoff) are cut short, and latchkey exits 128+n if no app was left to
 *   answer the signal itself.
 */
import type { Logger } from "../log/logger.ts";
import type { LaunchSpec } from "../launch/spec.ts";
import { isLatchkeyError } from "../errors.ts";
import { Child, type ExitStatus } from "./child.ts";
import { signalNumber, type SignalName, type SignalTable } from "./signals.ts";
import { emptyGroup, stopChild } from "./stop.ts";
import type { SuperviseHooks, ExitDecision } from "./supervise.ts";
import { now } from "../platform/clock.ts";

export interface RunnerOptions {
  table: SignalTable;
  signalGroup: boolean;
  stopTimeout: number;
  grace: number;
  /** Max random delay before a rotation restart, ms. */
  restartSplay: number;
  restartOnExit: boolean;
  /** Backoff for --restart-on-exit (ms): base doubles per quick exit up to cap. */
  exitBackoff?: { base: number; cap: number; resetAfter: number };
  random?: () => number;
}

export interface RunnerStats {
  restarts: number;
  signals: number;
  exitRestarts: number;
}

export class Runner implements SuperviseHooks {
  readonly stats: RunnerStats = { restarts: 0, signals: 0, exitRestarts: 0 };
  readonly #opts: RunnerOptions;
  readonly #log: Logger;
  #spec: LaunchSpec;
  #child: Child | null = null;
  #startedAt = 0;
  /** Set while a rotation restart owns the child; resolves to the new child or null. */
  #restarting: Promise<Child | null> | null = null;
  #stopSignal: SignalName | null = null;
  /** Made by the first backoff wait: most runs never wait, and AbortController costs ~0.2 ms to load. */
  #abort: AbortController | undefined;
  #quickExits = 0;
  #startError: unknown = null;
  #onStarted: ((c: Child) => void) | null = null;

  constructor(spec: LaunchSpec, opts: RunnerOptions, log: Logger) {
    this.#spec = spec;
    this.#opts = opts;
    this.#log = log;
  }

  get child(): Child | null {
    return this.#child;
  }
  get spec(): LaunchSpec {
    return this.#spec;
  }
  get stopping(): boolean {
    return this.#stopSignal !== null;
  }
  get restarting(): boolean {
    return this.#restarting !== null;
  }

  /** Called with each new child (first start and replacements), e.g. to update a status endpoint. */
  onStarted(fn: (c: Child) => void): void {
    this.#onStarted = fn;
  }

  // --- hooks called by supervise() -------------------------------------------------------

  started(child: Child): void {
    this.#child = child;
    this.#startedAt = Date.now();
    this.#onStarted?.(child);
  }

  stopSignal(sig: SignalName): void {
    if (this.#stopSignal) return;
    this.#stopSignal = sig;
    this.#abort?.abort();
  }

  async exited(child: Child, status: ExitStatus): Promise<ExitDecision> {
    if (this.#restarting) {
      const next = await this.#restarting;
      if (next) return { child: next };
      return { exitCode: this.#exitCodeWithoutApp(status) };
    }
    if (this.#stopSignal || !this.#opts.restartOnExit) return { exitCode: status.exitCode };

    const b = this.#opts.exitBackoff ?? { base: 500, cap: 30_000, resetAfter: 30_000 };
    if (Date.now() - this.#startedAt >= b.resetAfter) this.#quickExits = 0;
    this.#quickExits++;
    const delay = Math.min(b.cap, b.base * 2 ** Math.min(this.#quickExits - 1, 30));
    this.#log.warn("app exited; restarting it (--restart-on-exit)", {
      pid: child.pid, code: status.code, signal: status.signal, inMs: delay, attempt: this.#quickExits,
    });
    await emptyGroup(child, this.#opts.grace, this.#log);
    if (!(await this.#wait(delay))) return { exitCode: this.#exitCodeWithoutApp(status) };
    const next = this.#start(this.#spec);
    if (!next) return { exitCode: this.#startFailureCode() };
    this.stats.exitRestarts++;
    return { child: next };
  }

  // --- actions called by the rotation controller -----------------------------------------

  /**
   * Stop the app and start it again with `env`. Resolves when the new app runs (true), or
   * when a stop signal or the app's own exit made the restart moot (false).
   */
  async restart(env: Record<string, string>, reason: Record<string, string | number>): Promise<boolean> {
    const old = this.#child;
    if (this.#stopSignal || this.#restarting) return false;
    if (!old || !old.running) {
      // Between an exit and its --restart-on-exit start: that start takes the new env.
      if (!this.#opts.restartOnExit) return false;
      this.#spec = { ...this.#spec, env };
      return true;
    }
    const delay = this.#opts.restartSplay > 0 ? Math.round((this.#opts.random ?? Math.random)() * this.#opts.restartSplay) : 0;
    if (delay > 0) {
      this.#log.info("restart splay", { inMs: delay });
      if (!(await this.#wait(delay))) return false;
      if (!old.running || this.#child !== old || this.#restarting) return false;
    }
    const spec = { ...this.#spec, env };
    let done!: (c: Child | null) => void;
    this.#restarting = new Promise((r) => (done = r));
    const stopSig = this.#stopSignalFor();
    this.#log.info("restarting the app: secrets changed", { pid: old.pid, signal: stopSig, ...reason });
    const t0 = now();
    try {
      await stopChild(old, { signal: stopSig, group: this.#opts.signalGroup, timeout: this.#opts.stopTimeout, grace: this.#opts.grace }, this.#log);
      if (this.#stopSignal) {
        done(null);
        return false;
      }
      const next = this.#start(spec);
      done(next);
      if (!next) return false;
      this.#spec = spec;
      this.stats.restarts++;
      this.#log.info("app restarted", { pid: next.pid, downtimeMs: Math.round(now() - t0) });
      return true;
    } catch (e) {
      done(null);
      throw e;
    } finally {
      this.#restarting = null;
    }
  }

  /** Deliver a reload signal to the running app. */
  signal(sig: SignalName, reason: Record<string, string | number>): boolean {
    const c = this.#child;
    if (!c || !c.running || this.#stopSignal || this.#restarting) return false;
    const ok = c.signal(sig, this.#opts.signalGroup);
    if (ok) this.stats.signals++;
    this.#log.info("secrets changed; signalled the app", { pid: c.pid, signal: sig, delivered: ok, ...reason });
    return ok;
  }

  /** The env for later starts (restart-on-exit) when an action did not restart the app. */
  setEnv(env: Record<string, string>): void {
    this.#spec = { ...this.#spec, env };
  }

  // ---------------------------------------------------------------------------------------

  #start(spec: LaunchSpec): Child | null {
    if (this.#stopSignal) return null;
    try {
      const c = Child.start(spec);
      this.#log.info("app started", { pid: c.pid, command: spec.argv[0] });
      this.started(c);
      return c;
    } catch (e) {
      this.#startError = e;
      this.#log.error(`cannot start the app again: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  #startFailureCode(): number {
    return isLatchkeyError(this.#startError) ? this.#startError.exitCode : 71;
  }

  /** The app's stop signal: SIGTERM as the signal table rewrites it (e.g. --rewrite TERM:QUIT). */
  #stopSignalFor(): SignalName {
    const a = this.#opts.table.get("SIGTERM");
    return a && a.kind === "forward" ? a.to : "SIGTERM";
  }

  /**
   * No app was left to answer the outside stop signal (it arrived mid-restart): exit as if
   * the signal had killed the app (SIGTERM → 143). A failed start reports its own code.
   */
  #exitCodeWithoutApp(last: ExitStatus): number {
    if (this.#stopSignal) return 128 + signalNumber(this.#stopSignal);
    if (this.#startError) return this.#startFailureCode();
    return last.exitCode;
  }

  /** Sleep `ms`, cut short by a stop signal; true when the full time passed. */
  #wait(ms: number): Promise<boolean> {
    if (this.#stopSignal) return Promise.resolve(false);
    const signal = (this.#abort ??= new AbortController()).signal;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
