/**
 * The gate is a list of stages run in order; each returns a report and the first failing one
 * stops the start. Stages so far: required secrets (the file-secrets work supplies the
 * validation function; wrap it with `functionStage`), waits, pre-start hooks.
 */
import { now } from "../platform/clock.ts";

export type ItemState = "passed" | "failed" | "cancelled" | "not run";

export interface ItemReport {
  /** What was checked: a URL (password masked) or a hook's command as written. */
  name: string;
  state: ItemState;
  /** Short classification for machines: refused, timeout, dns, status, exit... */
  reason: string;
  /** What the last attempt saw: "connection refused", "status 503", "exited with code 3". */
  cause: string;
  /** The line for humans: the cause, and what it meant ("not ready after 30s", "not retried"). */
  detail: string;
  ms: number;
  attempts?: number;
}

export interface StageReport {
  stage: string;
  ok: boolean;
  ms: number;
  items: ItemReport[];
  /**
   * A stage may fail with its own error and exit code (a missing required secret is 66, not
   * "gate failed"); the gate rethrows it after reporting.
   */
  error?: Error;
}

export interface GateStage {
  readonly name: string;
  /** Must return promptly once `signal` aborts (SIGTERM during the gate). */
  run(signal: AbortSignal): Promise<StageReport>;
}

/**
 * Adapt a plain check (e.g. the required-secrets validation) into a stage: it passes when
 * `fn` returns, and fails with `fn`'s own error (and exit code) when it throws.
 */
export function functionStage(name: string, fn: (signal: AbortSignal) => void | Promise<void>): GateStage {
  return {
    name,
    async run(signal) {
      const t0 = now();
      try {
        await fn(signal);
        return { stage: name, ok: true, ms: now() - t0, items: [] };
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        const detail = error.message.split("\n")[0] ?? "";
        return { stage: name, ok: false, ms: now() - t0, error, items: [{ name, state: "failed", reason: "error", cause: detail, detail, ms: now() - t0 }] };
      }
    },
  };
}
