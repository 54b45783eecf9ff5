/**
 * The last step of both modes: become the app. Used by `--exec` (latchkey itself turns
 * into the app) and by the exec shim (a fresh latchkey process turns into the app).
 */
import { becomeIdentity } from "../privileges/drop.ts";
import { noNewPrivileges, parentDeathSignal, restoreCoreLimit, sealDescriptors } from "../platform/boundary.ts";
import { clearSignalMask, unblockSignals } from "../platform/sigmask.ts";
import { log } from "../log/logger.ts";

const SIGUSR1 = 10;
import { execFailure } from "./resolve.ts";
import type { LaunchSpec } from "./spec.ts";

/**
 * Node ignores SIGPIPE and SIGXFSZ, and ignored signals stay ignored across execve. A caught
 * signal is reset to default by execve, so listening to them just before exec restores the
 * app's defaults (a shell pipeline `app | head` must kill the app with SIGPIPE).
 * The signal mask also survives execve, and Node leaves SIGUSR1 blocked (platform/sigmask.ts):
 * the app must start with nothing blocked. SIGUSR1 gets a listener first, so that one
 * pending from before the exec cannot kill latchkey when the mask clears.
 */
function restoreDefaultDispositions(): void {
  for (const s of ["SIGPIPE", "SIGXFSZ", "SIGUSR1"] as const) process.on(s, () => {});
  if (!clearSignalMask() && !unblockSignals([SIGUSR1])) {
    log.warn("the app starts with SIGUSR1 blocked: node:ffi is unavailable to clear the signal mask (run the single executable)");
  }
}

export function execInto(spec: LaunchSpec): never {
  if (spec.identity) becomeIdentity(spec.identity);
  const b = spec.boundary;
  if (b?.noNewPrivs) noNewPrivileges();
  // after the last uid change, which clears it; parent 0: latchkey is PID 1 with --exec, no parent to watch
  if (b?.deathSignal !== undefined && b.parent) parentDeathSignal(b.deathSignal, b.parent);
  // 0-2 and the --pass-fd ones; everything else (Node's own included) closes at exec
  sealDescriptors(b?.passFds ?? []);
  restoreCoreLimit(b?.core);
  restoreDefaultDispositions();
  try {
    process.execve!(spec.path, spec.argv, spec.env);
  } catch (e) {
    throw execFailure(spec.path, e);
  }
  throw execFailure(spec.path, new Error("execve returned"));
}
