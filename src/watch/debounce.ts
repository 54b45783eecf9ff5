/**
 * A burst of change hints becomes one action. Each hint restarts the quiet timer (`wait`),
 * but never past `maxWait` after the first hint of the burst: a file rewritten every 100 ms
 * forever still triggers at most once per `maxWait` (consul-template's `wait = "min:max"`).
 */
export interface DebounceOptions {
  /** Quiet time after the last hint, ms. 0 = act on the next tick. */
  wait: number;
  /** Longest delay from the first hint of a burst, ms (≥ wait). */
  maxWait: number;
}

export class Debouncer {
  readonly #opts: DebounceOptions;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | null = null;
  #first = 0;
  #stopped = false;

  constructor(opts: DebounceOptions, fire: () => void) {
    this.#opts = { wait: opts.wait, maxWait: Math.max(opts.wait, opts.maxWait) };
    this.#fire = fire;
  }

  get pending(): boolean {
    return this.#timer !== null;
  }

  trigger(): void {
    if (this.#stopped) return;
    const now = Date.now();
    if (this.#timer === null) this.#first = now;
    else clearTimeout(this.#timer);
    const due = Math.min(now + this.#opts.wait, this.#first + this.#opts.maxWait);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#fire();
    }, Math.max(0, due - now));
  }

  /** Act now on a pending burst (e.g. before shutdown); no-op when nothing is pending. */
  flush(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#fire();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
