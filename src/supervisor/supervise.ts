/**
 * Supervise mode: latchkey stays PID 1. It owns OS signals and the exit code; the Child
 * knows how to start and signal the app.
 */
import type { Logger } from "../log/logger.ts";
import type { LaunchSpec } from "../launch/spec.ts";
import { Child, type ExitStatus } from "./child.ts";
import { Reaper } from "./reaper.ts";
import { STOPPING, signalNumber, type SignalName, type SignalTable } from "./signals.ts";
import { unblockSignals } from "../platform/sigmask.ts";
import { settleWhileRunning } from "../platform/memory.ts";
import { emptyGroup } from "./stop.ts";

export interface SuperviseOptions {
  table: SignalTable;
  signalGroup: boolean;
  /** ms; 0 disables the SIGKILL after a forwarded stop signal. */
  stopTimeout: number;
  /** ms to wait for the rest of the app's process group after the app exits. */
  grace: number;
  /** Observer of every start and exit, replacements included (the status endpoint); decides nothing. */
  onEvent?: (e: SupervisorEvent) => void;
}

export type SupervisorEvent =
  | { type: "started"; pid: number }
  | { type: "exited"; pid: number; status: ExitStatus };

/** What to do after the app exited: keep supervising a replacement, or end with a code. */
export type ExitDecision = { child: Child } | { exitCode: number };

/**
 * Lifetime decisions beyond one run (rotation restarts, --restart-on-exit), made by
 * supervisor/runner.ts. Without hooks, supervise runs the app once.
 */
export interface SuperviseHooks {
  /** The first app is running (replacements are reported by whoever starts them). */
  started?(child: Child): void;
  /** A stop signal (SIGTERM/SIGINT/SIGQUIT) arrived from outside; it was also forwarded. */
  stopSignal?(sig: SignalName): void;
  /** The app exited: return a replacement to supervise, or the code to exit with. */
  exited?(child: Child, status: ExitStatus): Promise<ExitDecision>;
}

export async function supervise(spec: LaunchSpec, opts: SuperviseOptions, log: Logger, hooks?: SuperviseHooks): Promise<number> {
  const reaper = new Reaper(log);
  reaper.start();

  let child: Child | null = null;
  let settle: (() => void) | null = null;
  let stopTimer: NodeJS.Timeout | null = null;
  const pending: SignalName[] = [];

  const onSignal = (sig: SignalName) => {
    if (STOPPING.has(sig)) hooks?.stopSignal?.(sig);
    if (!child) {
      pending.push(sig);
      return;
    }
    deliver(child, sig);
  };
  const deliver = (c: Child, sig: SignalName) => {
    const action = opts.table.get(sig);
    if (!action || action.kind === "consume") return;
    // The stop clock starts when a stop signal arrives, whatever the table does with it: a
    // rewrite (TERM:0, TERM:USR1) changes what the app is told, not how long it may take.
    if (STOPPING.has(sig)) startStopClock(c, sig);
    if (action.kind === "drop") {
      log.debug("signal dropped", { signal: sig });
      return;
    }
    const delivered = c.signal(action.to, opts.signalGroup || !c.running);
    log.debug("signal forwarded", { signal: sig, as: action.to, pid: c.pid, group: opts.signalGroup, delivered });
  };
  const startStopClock = (c: Child, sig: SignalName) => {
    if (opts.stopTimeout <= 0 || stopTimer || !c.running) return;
    stopTimer = setTimeout(() => {
      if (!c.running) return;
      log.warn(`app did not exit within the stop timeout after ${sig}; sending SIGKILL`, { pid: c.pid, timeoutMs: opts.stopTimeout });
      c.signal("SIGKILL", true);
      c.signal("SIGKILL", false);
    }, opts.stopTimeout);
  };

  const listeners = new Map<SignalName, () => void>();
  for (const [sig, action] of opts.table) {
    if (action.kind === "consume") continue;
    const l = () => onSignal(sig);
    listeners.set(sig, l);
    process.on(sig, l);
  }
  try {
    child = await Child.launch(spec);
    // Node leaves SIGUSR1 blocked under --disable-sigusr1; safe to unblock once it has a
    // listener. Done once the app runs (off x86-64 this binds glibc's sigprocmask, ~0.3 ms): a
    // SIGUSR1 sent meanwhile stays pending, and is delivered, then forwarded, here.
    if (listeners.has("SIGUSR1") && !unblockSignals([signalNumber("SIGUSR1")])) {
      log.warn("SIGUSR1 stays blocked (node:ffi unavailable): it will not be forwarded");
    }
    log.info("app started", { pid: child.pid, command: spec.argv[0], reaper: reaper.mode });
    opts.onEvent?.({ type: "started", pid: child.pid });
    hooks?.started?.(child);
    settle = settleWhileRunning(log, () => reaper.storming); // the start's garbage, and the polls', handed back
    for (const sig of pending.splice(0)) deliver(child, sig);

    for (;;) {
      const status: ExitStatus = await child.exited;
      if (stopTimer) clearTimeout(stopTimer);
      stopTimer = null;
      log.info("app exited", { pid: child.pid, code: status.code, signal: status.signal });
      opts.onEvent?.({ type: "exited", pid: child.pid, status });
      const next: ExitDecision = hooks?.exited ? await hooks.exited(child, status) : { exitCode: status.exitCode };
      if ("child" in next) {
        child = next.child;
        opts.onEvent?.({ type: "started", pid: child.pid });
        continue;
      }
      await drainGroup(child, opts.grace, log);
      reaper.reap();
      return next.exitCode;
    }
  } finally {
    settle?.();
    reaper.stop();
    // On the next turn of the event loop: latchkey usually exits before that, and closing the
    // signal handles first is ~0.1 ms of every exit (measured here). Meanwhile a signal finds
    // the app gone and is dropped, instead of killing latchkey with its default action and
    // turning the app's exit code into 128+n.
    setImmediate(() => {
      for (const [sig, l] of listeners) process.off(sig, l);
    });
  }
}

/** Give what is left of the app's process group `grace` ms after SIGTERM, then SIGKILL it. */
async function drainGroup(child: Child, grace: number, log: Logger): Promise<void> {
  if (!child.groupAlive()) return;
  log.info("app exited; stopping the rest of its process group", { pgid: child.pgid, graceMs: grace });
  await emptyGroup(child, grace, log);
}
