import type { Identity } from "../privileges/identity.ts";
import type { CoreLimit } from "../platform/boundary.ts";

/** Everything needed to start the app, decided before anything starts. */
export interface LaunchSpec {
  /** Resolved executable path. */
  path: string;
  /** argv as the user wrote it (argv[0] is COMMAND, not the resolved path). */
  argv: string[];
  env: Record<string, string>;
  identity?: Identity;
  /** Make the app the terminal's foreground process group (stdin is a TTY). */
  foreground: boolean;
  /** What else crosses into the app (platform/boundary.ts); absent: 0-2 only, nothing else set. */
  boundary?: LaunchBoundary;
}

export interface LaunchBoundary {
  /** Inherited descriptors the app gets besides 0-2 (--pass-fd). */
  passFds: number[];
  /** PR_SET_NO_NEW_PRIVS before exec (--no-new-privileges). */
  noNewPrivs: boolean;
  /** PR_SET_PDEATHSIG for the app (--parent-death-signal), set after the privilege drop. */
  deathSignal?: number;
  /** The pid the app's parent must still be when the death signal is set (the race check). */
  parent?: number;
  /** The app's RLIMIT_CORE (latchkey runs with 0). */
  core?: CoreLimit;
}
