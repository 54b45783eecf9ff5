/**
 * Stop signals before anyone else owns them. While latchkey loads secrets (a Vault login,
 * an AWS batch fetch) nothing listens to SIGTERM: as PID 1 the kernel would drop it (and
 * `docker stop` would wait for its SIGKILL), otherwise it would kill latchkey mid-fetch
 * without revoking what it obtained. The guard ends startup at once with 128+n; the app
 * has not started, so there is nothing to forward to.
 */
import { SIGNALS } from "../platform/signal-numbers.ts";
import type { Logger } from "../log/logger.ts";

const STOP = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP"] as const;

export interface StartupGuard {
  /** Hand the signals over; call in the same synchronous stretch as the next owner's process.on. */
  release(): void;
}

export function guardStartup(log: Logger, cleanup: () => Promise<void>): StartupGuard {
  const listeners = STOP.map((sig) => {
    const l = () => {
      log.warn(`${sig} during startup; the app will not be started`);
      const code = 128 + (SIGNALS[sig] ?? 15);
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
