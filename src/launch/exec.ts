/**
 * The last step of both modes: become the app. Used by `--exec` (latchkey itself turns
 * into the app) and by the exec shim (a fresh latchkey process turns into the app).
 */
import { alreadyIdentity, becomeIdentity, canSwitchThread, switchThread, type ThreadSwitch } from "../privileges/drop.ts";
import { noNewPrivileges, parentDeathSignal, restoreCoreLimit, sealDescriptors } from "../platform/boundary.ts";
import { clearSignalMask, unblockSignals } from "../platform/sigmask.ts";
import { log } from "../log/logger.ts";
import { defaultDispositionCall } from "../platform/libc.ts";
import { SIGNALS } from "../platform/signal-numbers.ts";

const SIGUSR1 = 10;
import { execFailure } from "./resolve.ts";
import { execveDirect } from "../platform/spawn.ts";
import { isTerminal } from "../platform/tty.ts";
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
  // SIGPIPE and SIGXFSZ are only ignored, never pending: set back to default directly (a
  // listener each costs ~0.25 ms, measured here); one sent from outside in the microseconds
  // left before execve ends latchkey as it would the app. SIGUSR1 may be pending (blocked
  // until the mask clears below): it needs the listener.
  const toDefault = defaultDispositionCall();
  for (const s of ["SIGPIPE", "SIGXFSZ"] as const) if (!toDefault || toDefault(SIGNALS[s]!) !== 0) process.on(s, () => {});
  process.on("SIGUSR1", () => {});
  if (!clearSignalMask() && !unblockSignals([SIGUSR1])) {
    log.warn("the app starts with SIGUSR1 blocked: node:ffi is unavailable to clear the signal mask (run the single executable)");
  }
}

export function execInto(spec: LaunchSpec): never {
  const thread = spec.identity ? dropFor(spec.identity) : undefined;
  const b = spec.boundary;
  if (b?.noNewPrivs) noNewPrivileges();
  // after the last uid change, which clears it; parent 0: latchkey is PID 1 with --exec, no parent to watch
  if (b?.deathSignal !== undefined && b.parent) parentDeathSignal(b.deathSignal, b.parent);
  // 0-2 and the --pass-fd ones; everything else (Node's own included) closes at exec
  sealDescriptors(b?.passFds ?? []);
  restoreCoreLimit(b?.core);
  restoreDefaultDispositions();
  try {
    // The bare system call where it can be made (spawn.ts), else Node's (see execveDirect).
    if (!useNodeExecve() && execveDirect(spec.path, spec.argv, spec.env)) return unreachable();
    process.execve!(spec.path, spec.argv, spec.env);
  } catch (e) {
    thread?.back(); // latchkey reports the failure with its own ids
    throw execFailure(spec.path, e);
  }
  thread?.back();
  throw execFailure(spec.path, new Error("execve returned"));
}

/**
 * Become the app's user for the execve. Only the calling thread's ids where that can be done
 * (privileges/drop.ts switchThread): execve keeps the calling thread's credentials and ends
 * the others, and glibc's whole-process set*id waits for every thread to be scheduled (0.3 ms
 * on an idle machine, 5-20 ms on a loaded one, measured here). Else glibc's, checked.
 */
function dropFor(id: NonNullable<LaunchSpec["identity"]>): ThreadSwitch | undefined {
  if (alreadyIdentity(id)) return undefined;
  if (canSwitchThread()) return switchThread(id, "exec");
  becomeIdentity(id);
  return undefined;
}

/**
 * process.execve costs ~2 ms before its system call (measured here with perf trace: its
 * JavaScript loads Node's worker module to check for the main thread, emits the experimental
 * warning and copies the environment once more), which made --exec slower than supervise
 * mode's posix_spawn. What it does besides (clearing close-on-exec on 0-2, giving a terminal
 * back the modes Node found it in) the direct call needs only for the first: latchkey never
 * opens Node's stdio streams on the way to the app, so their flags are as latchkey found
 * them, and with a terminal on 0-2 Node's call is kept.
 */
function useNodeExecve(): boolean {
  return isTerminal(0) || isTerminal(1) || isTerminal(2);
}

function unreachable(): never {
  throw new Error("execve returned");
}
