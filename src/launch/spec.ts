import type { Identity } from "../privileges/identity.ts";

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
}
