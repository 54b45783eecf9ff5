/**
 * Signal policy as data (dumb-init style): what latchkey does with each signal it can
 * receive. Everything not listed keeps Node's default disposition.
 */
import { SIGNALS } from "../platform/signal-numbers.ts";
import { LatchkeyError, ExitCode } from "../errors.ts";
import { invalid, type Origin } from "../config/settings.ts";

export type SignalName = NodeJS.Signals;
export type SignalAction =
  | { kind: "forward"; to: SignalName }
  | { kind: "drop" }
  /** Handled by latchkey itself (SIGCHLD drives the reaper). */
  | { kind: "consume" };

/**
 * Forwarded by default: every signal a process can catch that is sent *to* a process from
 * outside. Left out, as tini does: the synchronous fault signals (SEGV, BUS, FPE, ILL, ABRT,
 * TRAP, SYS) which describe latchkey itself; SIGPIPE and SIGXFSZ, raised by latchkey's own
 * writes; SIGTTIN and SIGTTOU, raised by its own terminal access; SIGKILL and SIGSTOP,
 * which cannot be caught.
 */
export const FORWARDED: readonly SignalName[] = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGTERM", "SIGSTKFLT",
  "SIGCONT", "SIGTSTP", "SIGURG", "SIGXCPU", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
];

/** Signals that mean "stop": after forwarding one, --stop-timeout starts counting. */
export const STOPPING: ReadonlySet<SignalName> = new Set(["SIGTERM", "SIGINT", "SIGQUIT"]);

export type SignalTable = ReadonlyMap<SignalName, SignalAction>;

export function defaultTable(): Map<SignalName, SignalAction> {
  const t = new Map<SignalName, SignalAction>();
  for (const s of FORWARDED) t.set(s, { kind: "forward", to: s });
  t.set("SIGCHLD", { kind: "consume" });
  return t;
}

export function signalNumber(name: SignalName): number {
  const n = SIGNALS[name];
  if (n === undefined) throw new LatchkeyError("internal", ExitCode.INTERNAL, `unknown signal ${name}`);
  return n;
}

export function signalName(n: number): SignalName | undefined {
  for (const [k, v] of Object.entries(SIGNALS)) if (v === n) return k as SignalName;
  return undefined;
}

/** `TERM`, `SIGTERM`, `sigterm` or `15` → `SIGTERM`; null when it names no signal. */
export function parseSignal(raw: string): SignalName | null {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return signalName(Number(s)) ?? null;
  const up = s.toUpperCase();
  const name = (up.startsWith("SIG") ? up : `SIG${up}`) as SignalName;
  return name in SIGNALS ? name : null;
}

/** Apply `--rewrite FROM:TO` rules. TO may be 0 (or `drop`) to drop FROM. */
export function applyRewrites(table: Map<SignalName, SignalAction>, rules: string[], origin: Origin): void {
  const hint = `expected FROM:TO with signal names or numbers, e.g. TERM:QUIT; FROM one of ${FORWARDED.map((s) => s.slice(3)).join(", ")}`;
  for (const rule of rules) {
    const parts = rule.split(":");
    if (parts.length !== 2) throw invalid(origin, rule, hint);
    const from = parseSignal(parts[0]!);
    if (!from) throw invalid(origin, rule, `'${parts[0]}' is not a signal; ${hint}`);
    if (!FORWARDED.includes(from)) throw invalid(origin, rule, `${from} cannot be rewritten; ${hint}`);
    const toRaw = parts[1]!.trim();
    if (toRaw === "0" || toRaw.toLowerCase() === "drop") {
      table.set(from, { kind: "drop" });
      continue;
    }
    const to = parseSignal(toRaw);
    if (!to) throw invalid(origin, rule, `'${toRaw}' is not a signal; ${hint}`);
    table.set(from, { kind: "forward", to });
  }
}
