/**
 * Stopping the app for a restart: its stop signal, then SIGKILL after the stop timeout, then
 * what is left of its process group (workers it forked) gets the same treatment, so that the
 * next app never overlaps the old one: ports, lock files and database sessions are free when
 * it starts. Stopping twice is safe.
 */
import type { Logger } from "../log/logger.ts";
import type { Child, ExitStatus } from "./child.ts";
import type { SignalName } from "./signals.ts";

export interface StopOptions {
  signal: SignalName;
  /** Send to the whole process group (--signal-group), not only the app. */
  group: boolean;
  /** ms before SIGKILL; 0 = never (wait for the app however long it takes). */
  timeout: number;
  /** ms for the rest of the group after the app exited, then SIGKILL. */
  grace: number;
}

export async function stopChild(child: Child, opts: StopOptions, log: Logger): Promise<ExitStatus> {
  if (child.running) {
    child.signal(opts.signal, opts.group);
    child.signal("SIGCONT", opts.group); // a stopped (SIGTSTP) app cannot act on the stop signal
  }
  let timer: NodeJS.Timeout | null = null;
  if (opts.timeout > 0) {
    timer = setTimeout(() => {
      if (!child.running) return;
      log.warn("app did not stop within the stop timeout for a restart; sending SIGKILL", { pid: child.pid, timeoutMs: opts.timeout });
      child.signal("SIGKILL", true);
      child.signal("SIGKILL", false);
    }, opts.timeout);
  }
  const status = await child.exited;
  if (timer) clearTimeout(timer);
  await emptyGroup(child, opts.grace, log);
  return status;
}

/** Wait until no process is left in the app's group: SIGTERM, `grace` ms, SIGKILL. */
export async function emptyGroup(child: Child, grace: number, log: Logger): Promise<void> {
  if (!child.groupAlive()) return;
  child.signal("SIGTERM", true);
  child.signal("SIGCONT", true);
  const deadline = Date.now() + grace;
  while (Date.now() < deadline) {
    await sleep(10);
    if (!child.groupAlive()) return;
  }
  log.warn("processes left in the app's group after the grace period; sending SIGKILL", { pgid: child.pgid });
  child.signal("SIGKILL", true);
  // Killed processes are zombies until reaped (the reaper does it on SIGCHLD); wait for that.
  for (let i = 0; i < 500 && child.groupAlive(); i++) await sleep(10);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
