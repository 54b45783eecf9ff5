/**
 * The gate's one report: a line per check (passed/failed and why, how long, how many
 * attempts), at info level when everything passed and at error level when it did not.
 * Text lines are for people; in --log-format json each line carries the same facts as fields.
 */
import type { Logger } from "../log/logger.ts";
import { formatMs } from "../health/probe.ts";
import type { StageReport } from "./stage.ts";

export type GateVerdict = "passed" | "failed" | "interrupted";

export function logReport(log: Logger, stages: readonly StageReport[], ms: number, verdict: GateVerdict): void {
  const level = verdict === "passed" ? "info" : verdict === "interrupted" ? "warn" : "error";
  if (!log.enabled(level)) return;
  const json = log.format === "json";
  const count = stages.reduce((n, s) => n + s.items.length, 0);
  log.log(level, `startup gate ${verdict} after ${formatMs(ms)} (${count} check${count === 1 ? "" : "s"})`,
    json ? { gate: verdict, ms: Math.round(ms) } : undefined);
  for (const s of stages) {
    for (const i of s.items) {
      const attempts = i.attempts !== undefined ? `, ${i.attempts} attempt${i.attempts === 1 ? "" : "s"}` : "";
      const msg = `  ${mark(i.state)} ${s.stage} ${i.name}: ${i.detail} (${formatMs(i.ms)}${attempts})`;
      log.log(level, msg, json
        ? { stage: s.stage, check: i.name, result: i.state, reason: i.reason, detail: i.detail, ms: Math.round(i.ms), attempts: i.attempts }
        : undefined);
    }
  }
}

function mark(state: string): string {
  return state === "passed" ? "ok  " : state === "failed" ? "FAIL" : state === "cancelled" ? "stop" : "-   ";
}
