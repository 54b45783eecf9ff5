/**
 * The signal mask Node leaves behind. At startup Node blocks SIGUSR1 in every thread and
 * unblocks it on the main thread only when it starts its inspector's signal watcher; with
 * `--disable-sigusr1` (baked into the single executable so that a SIGUSR1 cannot open a
 * debugger port) that never happens. Left alone, this has two effects:
 *   - latchkey's SIGUSR1 listener never fires: the signal stays pending, never forwarded;
 *   - the blocked mask survives execve, so an app started by --exec or by the exec shim
 *     would never see SIGUSR1 either (nginx reopens its logs on it).
 * A listener must be installed before unblocking: SIGUSR1's disposition is the default
 * (terminate) under `--disable-sigusr1`.
 */
import { readFileSync } from "node:fs";
import { libc, SIG_SETMASK, SIG_UNBLOCK } from "./libc.ts";

export const SIGSET_BYTES = 128; // glibc sigset_t

/** A glibc sigset_t holding `signals`. */
export function sigset(signals: readonly number[]): Buffer {
  const set = Buffer.alloc(SIGSET_BYTES);
  for (const n of signals) set[(n - 1) >> 3]! |= 1 << ((n - 1) & 7);
  return set;
}

/**
 * Unblock `signals` on this (the main) thread. False when they stay blocked: FFI is
 * unavailable (the .cjs bundle on a node run with --disable-sigusr1 but without
 * --experimental-ffi) or the call failed.
 */
export function unblockSignals(signals: readonly number[]): boolean {
  const c = libc();
  if (!c) return (blockedOnMainThread() & sigsetBits(signals)) === 0n;
  return c.sigprocmask(SIG_UNBLOCK, sigset(signals), Buffer.alloc(SIGSET_BYTES)) === 0;
}

function sigsetBits(signals: readonly number[]): bigint {
  return signals.reduce((acc, n) => acc | (1n << BigInt(n - 1)), 0n);
}

/** SigBlk of the main thread (/proc/self/status describes the thread group leader). */
function blockedOnMainThread(): bigint {
  try {
    const m = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

/** Clear the mask entirely, as an app expects to start (just before execve). */
export function clearSignalMask(): boolean {
  const c = libc();
  if (!c) return false;
  return c.sigprocmask(SIG_SETMASK, sigset([]), Buffer.alloc(SIGSET_BYTES)) === 0;
}
