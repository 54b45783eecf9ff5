/**
 * Delays with jitter. A fleet of containers started together must not poll a provider in
 * lockstep, nor hammer it in lockstep when it comes back after an outage ("full jitter" on
 * failures, ±fraction around the interval on success).
 */
export type Random = () => number;

/** `base` ± `fraction` (0.1 = ±10%), never negative. */
export function jittered(base: number, fraction: number, random: Random = Math.random): number {
  if (base <= 0 || fraction <= 0) return Math.max(0, base);
  const span = base * fraction;
  return Math.max(0, Math.round(base - span + random() * 2 * span));
}

export interface BackoffOptions {
  /** First delay after a failure, ms. */
  base: number;
  /** Largest delay, ms. */
  cap: number;
}

/**
 * Capped exponential backoff for the n-th consecutive failure (n ≥ 1): base·2^(n-1), at most
 * cap, then jittered over its upper half so that retries spread but never collapse to zero.
 */
export function backoffDelay(failures: number, opts: BackoffOptions, random: Random = Math.random): number {
  const n = Math.max(1, failures);
  const exp = Math.min(opts.cap, opts.base * 2 ** Math.min(n - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** A random delay in [0, max] (restart splay). */
export function splay(max: number, random: Random = Math.random): number {
  return max > 0 ? Math.round(random() * max) : 0;
}
