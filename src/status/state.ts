/**
 * What the status endpoint reports, updated by the lifecycle: the gate's outcome, then the
 * supervisor's events (app started / exited; each start after the first is a restart).
 */
import type { StageReport, ItemReport } from "../gate/stage.ts";
import type { SupervisorEvent } from "../supervisor/supervise.ts";
import { rotationSnapshot } from "../watch/status.ts";
import { freshnessSnapshot, type SourceFreshness } from "./freshness.ts";
import { now } from "../platform/clock.ts";

export type Phase = "starting" | "running" | "exited" | "gate failed";

export interface AppStatus {
  pid: number | null;
  running: boolean;
  startedAt: string | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; exitCode: number; at: string } | null;
}

export interface GateStatus {
  state: "running" | "passed" | "failed";
  ms: number | null;
  checks: Array<ItemReport & { stage: string }>;
}

export interface Snapshot {
  phase: Phase;
  uptimeMs: number;
  gate: GateStatus;
  app: AppStatus;
  secrets: SourceFreshness[];
  /** What secret rotation has seen and done (names and counts only). */
  rotation: ReturnType<typeof rotationSnapshot>;
}

export class StatusState {
  phase: Phase = "starting";
  readonly #t0 = now();
  #gate: GateStatus = { state: "running", ms: null, checks: [] };
  #app: AppStatus = { pid: null, running: false, startedAt: null, restarts: 0, lastExit: null };
  #starts = 0;

  gateDone(stages: readonly StageReport[], ms: number, ok: boolean): void {
    this.#gate = {
      state: ok ? "passed" : "failed",
      ms: Math.round(ms),
      checks: stages.flatMap((s) => s.items.map((i) => ({ stage: s.stage, ...i, ms: Math.round(i.ms) }))),
    };
    if (!ok) this.phase = "gate failed";
  }

  /** The supervisor's hook (SuperviseOptions.onEvent). */
  readonly onEvent = (e: SupervisorEvent): void => {
    if (e.type === "started") {
      this.#starts++;
      this.#app = { ...this.#app, pid: e.pid, running: true, startedAt: new Date().toISOString(), restarts: this.#starts - 1 };
      this.phase = "running";
    } else {
      const { code, signal, exitCode } = e.status;
      this.#app = { ...this.#app, running: false, lastExit: { code, signal, exitCode, at: new Date().toISOString() } };
      this.phase = "exited";
    }
  };

  get started(): boolean {
    return this.#starts > 0;
  }

  get appRunning(): boolean {
    return this.#app.running;
  }

  snapshot(): Snapshot {
    return {
      phase: this.phase,
      uptimeMs: Math.round(now() - this.#t0),
      gate: this.#gate,
      app: { ...this.#app },
      secrets: freshnessSnapshot(),
      rotation: rotationSnapshot(),
    };
  }
}

