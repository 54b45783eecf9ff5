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
