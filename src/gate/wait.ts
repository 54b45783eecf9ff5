/**
 * Wait for one dependency: probe, and on a retryable failure probe again after an
 * exponentially growing, jittered pause, until it passes or its deadline comes.
 *
 * Jitter: many containers restarting together (a node reboot, a compose up) must not probe
 * a database in lockstep. Each pause is drawn from [d/2, d] ("equal jitter"), d doubling
 * from 50 ms to a 1 s ceiling, so a dependency is noticed at most ~1 s after it is ready.
 */
import { probe } from "../health/probe.ts";
import type { Attempt } from "../health/outcome.ts";
import type { Target } from "../health/target.ts";
import { now } from "../platform/clock.ts";

export const FIRST_PAUSE_MS = 50;
export const MAX_PAUSE_MS = 1_000;
/** One attempt never waits longer than this for an answer (a black-holed SYN takes minutes). */
export const ATTEMPT_TIMEOUT_MS = 5_000;

export type CheckState = "passed" | "failed" | "cancelled";

export interface CheckResult {
  target: Target;
  state: CheckState;
  /** The last attempt: why it passed or failed. */
  last: Attempt;
  attempts: number;
  ms: number;
  /** The check's own deadline was reached (as opposed to a permanent failure). */
  timedOut: boolean;
}

export interface WaitOptions {
  /** Absolute deadline (now() clock). */
  deadline: number;
  signal: AbortSignal;
  random?: () => number;
  /** Sees every attempt (progress lines while a gate waits). */
  onAttempt?: (a: Attempt) => void;
}

export async function waitFor(target: Target, opts: WaitOptions): Promise<CheckResult> {
  const t0 = now();
  const deadline = Math.min(opts.deadline, target.timeoutMs !== undefined ? t0 + target.timeoutMs : Infinity);
  const random = opts.random ?? Math.random;
  let attempts = 0;
  let pause = FIRST_PAUSE_MS;
  let last: Attempt = { ok: false, reason: "timeout", detail: "not checked yet", retryable: true };
  const result = (state: CheckState, timedOut = false): CheckResult =>
    ({ target, state, last, attempts, ms: now() - t0, timedOut });

  for (;;) {
    if (opts.signal.aborted) return result("cancelled");
    const remaining = deadline - now();
    if (remaining <= 0) return result("failed", true);
    attempts++;
    const a = await probe(target, { timeoutMs: Math.min(ATTEMPT_TIMEOUT_MS, remaining), signal: opts.signal });
    if (opts.signal.aborted) return result("cancelled");
    // A cut-short attempt says nothing new; keep the previous, more telling reason.
    if (!(a.reason === "timeout" && last.reason !== "timeout" && now() >= deadline)) last = a;
    opts.onAttempt?.(a);
    if (a.ok) return result("passed");
    if (!a.retryable) return result("failed");
    const wait = Math.min(pause * (0.5 + random() * 0.5), deadline - now());
    if (wait <= 0) return result("failed", true);
    if (!(await sleep(wait, opts.signal))) return result("cancelled");
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}

/** Resolves true after `ms`, false at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
