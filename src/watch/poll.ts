/**
 * Runs a check at an interval with jitter; consecutive failures back off exponentially up to
 * a cap, and the first success returns to the normal interval. One run at a time: a slow
 * provider never gets a second concurrent poll from us.
 */
import { backoffDelay, jittered, type Random } from "./backoff.ts";

export interface PollOptions {
  /** Normal interval between the end of one run and the start of the next, ms. */
  interval: number;
  /** ±fraction of jitter around the interval (0.1 = ±10%). */
  jitter: number;
  /** Largest delay after failures, ms. */
  backoffCap: number;
  random?: Random;
}

export interface PollOutcome {
  ok: boolean;
  /** Consecutive failures so far (0 after a success). */
  failures: number;
  /** Delay before the next run, ms. */
  nextInMs: number;
  error?: unknown;
}

/** The cap used when none is configured: ten intervals, at most 5 minutes, never below one interval. */
export function defaultBackoffCap(interval: number): number {
  return Math.max(interval, Math.min(10 * interval, 300_000));
}

/**
 * V8 settings for a process that stays resident and polls, switched on at the first poll (the
 * start is over by then). With 10 aws-sm:// references polled every second, anonymous memory
 * went 23 -> 44 MB in 90 s without them (issue 15; bench/run aws-soak): the optimizing
 * compilers (TurboFan, Maglev) run on V8's worker threads and their scratch memory stayed in
 * those threads' malloc arenas (14 MB in 5 arenas in /proc/PID/smaps), and the old generation
 * grew to ~1.7x its live size before a full collection. A poll's code is system calls and I/O:
 * the interpreter and Sparkplug serve it. (The young generation's growth is capped by
 * --max-semi-space-size in the executable's flags, build/executable.ts.)
 *
 * Not baked into the executable's flags: these three change V8's flag hash, and Node's own
 * code cache for its built-in modules, made with the default flags, is then rejected. Every
 * built-in loaded after the startup snapshot (node:https and node:crypto for the AWS SDK) was
 * compiled from source: twice the time, ~+20 ms per start with an aws-sm:// reference.
 */
let resident = false;
function settleForResidency(): void {
  if (resident) return;
  resident = true;
  const v8 = process.getBuiltinModule("node:v8") as typeof import("node:v8");
  for (const flag of ["--no-opt", "--no-maglev", "--optimize-for-size"]) v8.setFlagsFromString(flag);
}

export class PollScheduler {
  readonly #opts: PollOptions;
  readonly #task: () => Promise<void>;
  readonly #report: (o: PollOutcome) => void;
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;
  #running = false;
  #stopped = false;

  constructor(opts: PollOptions, task: () => Promise<void>, report: (o: PollOutcome) => void = () => {}) {
    this.#opts = opts;
    this.#task = task;
    this.#report = report;
  }

  get failures(): number {
    return this.#failures;
  }

  start(): void {
    this.#schedule(jittered(this.#opts.interval, this.#opts.jitter, this.#opts.random));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Run now (e.g. a file event asked for a look), unless a run is in progress. */
  now(): void {
    if (this.#running || this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    void this.#run();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    // Node fires a timer past 2^31-1 ms (24.8 days) at once; jitter can push a long interval there.
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run();
    }, Math.min(ms, 2 ** 31 - 1));
    this.#timer.unref?.();
  }

  async #run(): Promise<void> {
    settleForResidency();
    this.#running = true;
    let outcome: PollOutcome;
    try {
      await this.#task();
      this.#failures = 0;
      outcome = { ok: true, failures: 0, nextInMs: jittered(this.#opts.interval, this.#opts.jitter, this.#opts.random) };
    } catch (error) {
      this.#failures++;
      // Never sooner than one interval: during an outage the request rate stays at or below
      // the healthy one (a retry at half an interval made a sealed Vault cost more, #13).
      const next = Math.max(
        Math.min(this.#opts.interval, this.#opts.backoffCap),
        backoffDelay(this.#failures, { base: this.#opts.interval, cap: this.#opts.backoffCap }, this.#opts.random),
      );
      outcome = { ok: false, failures: this.#failures, nextInMs: Math.round(next), error };
    } finally {
      this.#running = false;
    }
    if (this.#stopped) return;
    this.#report(outcome);
    this.#schedule(outcome.nextInMs);
  }
}
