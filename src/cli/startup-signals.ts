/**
 * Stop signals before anyone else owns them. While latchkey loads secrets (a Vault login,
 * an AWS batch fetch) nothing listens to SIGTERM: as PID 1 the kernel would drop it (and
 * `docker stop` would wait for its SIGKILL), otherwise it would kill latchkey mid-fetch
 * without revoking what it obtained. The guard ends startup at once with 128+n; the app
 * has not started, so there is nothing to forward to.
 *
 * This works only while the event loop is free: every file latchkey reads at startup is
 * opened non-blocking and must be a regular file (sources/file/read.ts), so no open(2) of a
 * FIFO can hold the main thread, and secret managers are asked asynchronously.
 */
import { SIGNALS } from "../platform/signal-numbers.ts";
import type { Logger } from "../log/logger.ts";

const STOP = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP"] as const;

export interface StartupGuard {
  /** Hand the signals over; call in the same synchronous stretch as the next owner's process.on. */
  release(): void;
}

/**
 * How long the cleanup (revoking a Vault token and leases) may delay the exit: a secret
 * manager that stopped answering is often why startup was slow in the first place, and
 * `docker stop` sends SIGKILL after 10 s.
 */
export const CLEANUP_LIMIT_MS = 2_000;

export function guardStartup(log: Logger, cleanup: () => Promise<void>): StartupGuard {
  let stopping = false;
  const listeners = STOP.map((sig) => {
    const l = () => {
      const code = 128 + (SIGNALS[sig] ?? 15);
      if (stopping) process.exit(code); // a second stop signal: no more waiting
      stopping = true;
      log.warn(`${sig} during startup; the app will not be started`);
      setTimeout(() => process.exit(code), CLEANUP_LIMIT_MS);
      void cleanup().finally(() => process.exit(code));
    };
    process.on(sig, l);
    return [sig, l] as const;
  });
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      for (const [sig, l] of listeners) process.off(sig, l);
    },
  };
}
