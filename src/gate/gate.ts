/**
 * Run the gate's stages in order, report once, and hold SIGTERM/SIGINT/SIGQUIT while it
 * runs: a stop signal during the gate stops it at once and latchkey exits 128+n without
 * starting the app (as PID 1 the kernel would otherwise ignore SIGTERM altogether).
 */
import { SIGNALS } from "../platform/signal-numbers.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { formatMs } from "../health/probe.ts";
import { logReport } from "./report.ts";
import type { GateStage, StageReport } from "./stage.ts";
import { now } from "../platform/clock.ts";

const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;

export interface GateOutcome {
  stages: StageReport[];
  ms: number;
  /**
   * Stop holding the stop signals. Call it once whoever handles them next (the supervisor)
   * has installed its own listeners: with no listener at all for an instant, a SIGTERM in
   * that instant would kill latchkey (or, as PID 1, be lost).
   */
  release(): void;
}

/** `onDone` sees the outcome before anything else happens (the status endpoint's startup view). */
export type GateObserver = (stages: readonly StageReport[], ms: number, ok: boolean) => void;

export interface GateOptions {
  /**
   * Take SIGTERM/SIGINT/SIGQUIT for the gate's duration. Default: only when nobody listens
   * to SIGTERM yet — true for the startup gate, false when the supervisor already owns the
   * signals (the gate re-run to vet rotated secrets), which can pass `signal` to cut it short.
   */
  holdSignals?: boolean;
  signal?: AbortSignal;
}

export async function runGate(stages: readonly GateStage[], log: Logger, onDone?: GateObserver, opts: GateOptions = {}): Promise<GateOutcome> {
  const t0 = now();
  // Made on first need: a start with no checks and no stop signal never loads AbortController
  // (~0.2 ms of every start, measured here).
  let ac: AbortController | undefined;
  const controller = () => (ac ??= new AbortController());
  let over = false;
  const hold = opts.holdSignals ?? process.listenerCount("SIGTERM") === 0;
  const outer = opts.signal;
  const onOuter = () => controller().abort(outer?.reason ?? "aborted");
  if (outer?.aborted) onOuter();
  else outer?.addEventListener("abort", onOuter, { once: true });
  let caught: (typeof STOP_SIGNALS)[number] | undefined;
  const listeners = (hold ? STOP_SIGNALS : []).map((sig) => {
    const l = () => {
      if (over || ac?.signal.aborted) return; // gate over: the next owner decides
      caught = sig;
      log.warn(`${sig} during the startup gate; stopping it, the app will not be started`);
      controller().abort(sig);
    };
    process.on(sig, l);
    return [sig, l] as const;
  });
  const release = () => {
    for (const [sig, l] of listeners) process.off(sig, l);
    outer?.removeEventListener("abort", onOuter);
  };

  const reports: StageReport[] = [];
  try {
    for (const stage of stages) {
      const report = await stage.run(controller().signal);
      reports.push(report);
      if (caught) break;
      if (!report.ok) break;
    }
  } catch (e) {
    release();
    throw e;
  }
  const ms = now() - t0;
  const failed = reports.find((r) => !r.ok);
  onDone?.(reports, ms, !caught && !failed);

  if (caught) {
    logReport(log, reports, ms, "interrupted");
    release();
    const n = SIGNALS[caught] ?? 15;
    throw new LatchkeyError("interrupted", 128 + n, `startup gate interrupted by ${caught} after ${formatMs(ms)}; the app was not started`);
  }
  if (outer?.aborted) {
    logReport(log, reports, ms, "interrupted");
    release();
    throw new LatchkeyError("gate", ExitCode.UNAVAILABLE, `gate stopped after ${formatMs(ms)}: ${String(outer.reason ?? "aborted")}`);
  }
  if (failed) {
    logReport(log, reports, ms, "failed");
    release();
    if (failed.error) throw failed.error;
    throw gateFailed(failed, ms);
  }
  if (reports.some((r) => r.items.length > 0)) logReport(log, reports, ms, "passed");
  // Past this point a stop signal is for the next owner, not for the gate.
  over = true;
  ac?.abort("done");
  return { stages: reports, ms, release };
}

function gateFailed(stage: StageReport, ms: number): LatchkeyError {
  const bad = stage.items.filter((i) => i.state === "failed");
  const named = bad.map((i) => `${i.name} (${i.reason === "exit" || i.reason === "status" ? i.cause : i.reason})`);
  // One line stays readable: the report above lists every check.
  const what = named.length > 3 ? `${named.slice(0, 3).join(", ")} and ${named.length - 3} more` : named.join(", ") || stage.stage;
  const verb = stage.stage === "pre-start" ? "pre-start hook failed" : "not ready";
  return new LatchkeyError("gate", ExitCode.UNAVAILABLE, `startup gate failed after ${formatMs(ms)}: ${verb}: ${what}; the app was not started`);
}
