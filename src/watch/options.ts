/**
 * Typed rotation options from the layered settings, checked before anything starts.
 */
import { invalid, type Settings } from "../config/settings.ts";
import { parseSignal, type SignalName } from "../supervisor/signals.ts";
import { systemDirProblem } from "../fileset/system-dirs.ts";

export type Action = { kind: "restart" } | { kind: "signal"; signal: SignalName } | { kind: "none" };

export interface RotationOptions {
  action: Action;
  debounce: number;
  debounceMax: number;
  /** ms; 0 = no polling. */
  pollInterval: number;
  restartSplay: number;
  render?: string;
  restartOnExit: boolean;
  /** Rotation settings given explicitly (not defaults), except --render: they do nothing with --exec. */
  explicit: string[];
}

const ACTION_HINT = "expected restart, none, or signal:NAME (e.g. signal:HUP, signal:SIGUSR1)";

/** `restart`, `none`, `signal:HUP`, `signal:SIGHUP`, `signal:1`. Returns null when invalid. */
export function parseAction(raw: string): Action | null {
  const s = raw.trim().toLowerCase();
  if (s === "restart") return { kind: "restart" };
  if (s === "none") return { kind: "none" };
  const m = /^signal:(.+)$/.exec(raw.trim());
  if (!m) return null;
  const sig = parseSignal(m[1]!);
  if (!sig || sig === "SIGKILL" || sig === "SIGSTOP") return null;
  return { kind: "signal", signal: sig };
}

export function formatAction(a: Action): string {
  return a.kind === "signal" ? `signal:${a.signal}` : a.kind;
}

export function loadRotationOptions(s: Settings): RotationOptions {
  const rawAction = s.string("on-change") ?? "restart";
  const action = parseAction(rawAction);
  if (!action) throw invalid(s.origin("on-change")!, rawAction, ACTION_HINT);
  const debounce = s.duration("debounce") ?? 1000;
  const debounceMax = s.duration("debounce-max") ?? 10_000;
  if (debounceMax < debounce) {
    throw invalid(s.origin("debounce-max")!, s.string("debounce-max")!, `must be at least --debounce (${s.string("debounce")})`);
  }
  const render = s.string("render");
  if (render !== undefined && !render.startsWith("/")) {
    throw invalid(s.origin("render")!, render, "expected an absolute directory path");
  }
  const system = render !== undefined ? systemDirProblem(render) : null;
  if (system) throw invalid(s.origin("render")!, render!, system);
  return {
    action,
    debounce,
    debounceMax,
    pollInterval: s.duration("poll-interval") ?? 60_000,
    restartSplay: s.duration("restart-splay") ?? 0,
    ...(render !== undefined ? { render } : {}),
    restartOnExit: s.boolean("restart-on-exit"),
    explicit: ["on-change", "debounce", "debounce-max", "poll-interval", "restart-splay", "restart-on-exit"]
      .filter((n) => { const o = s.origin(n); return o !== undefined && o.kind !== "default"; })
      .map((n) => s.origin(n)!.label),
  };
}
