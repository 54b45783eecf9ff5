/** The waits stage: every dependency checked concurrently; the first failure cancels the rest. */
import { formatMs } from "../health/probe.ts";
import type { Attempt } from "../health/outcome.ts";
import { log } from "../log/logger.ts";
import type { Target } from "../health/target.ts";
import type { GateStage, ItemReport, StageReport } from "./stage.ts";
import { waitFor, type CheckResult } from "./wait.ts";
import { now } from "../platform/clock.ts";

const PROGRESS_MS = 10_000;

export function waitsStage(targets: readonly Target[], timeoutMs: number): GateStage {
  return {
    name: "wait",
    async run(signal): Promise<StageReport> {
      const t0 = now();
      const deadline = t0 + timeoutMs;
      // Linked to the gate's signal; aborted by the first failure so that the report comes
      // out as soon as the outcome is known, not when the slowest check gives up.
      const local = new AbortController();
      const onAbort = () => local.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      // A gate that waits long says what for (at info level), not only when it gives up.
      const pending = new Map<Target, Attempt | undefined>(targets.map((t) => [t, undefined]));
      const progress = setInterval(() => {
        const what = [...pending].map(([t, a]) => `${t.display} (${a ? a.detail : "checking"})`).join(", ");
        log.info(`startup gate: still waiting after ${formatMs(now() - t0)} for ${what}`);
      }, PROGRESS_MS);
      try {
        const results = await Promise.all(targets.map(async (t) => {
          const r = await waitFor(t, { deadline, signal: local.signal, onAttempt: (a) => pending.set(t, a) });
          pending.delete(t);
          // At the shared deadline the others are failing on their own; let them say why.
          if (r.state === "failed" && now() < deadline - 100) local.abort();
          return r;
        }));
        return { stage: "wait", ok: results.every((r) => r.state === "passed"), ms: now() - t0, items: results.map(item) };
      } finally {
        clearInterval(progress);
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

function item(r: CheckResult): ItemReport {
  const base = { name: r.target.display, ms: r.ms, attempts: r.attempts, cause: r.last.detail };
  if (r.state === "passed") return { ...base, state: "passed", reason: "ok", detail: r.last.detail };
  const detail = r.state === "cancelled"
    ? `${r.last.detail}; stopped before it was ready`
    : r.timedOut ? `${r.last.detail}; not ready after ${formatMs(r.ms)}` : `${r.last.detail} (not retried)`;
  return { ...base, state: r.state, reason: r.last.reason, detail };
}
