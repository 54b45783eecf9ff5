import { isTerminal } from "../platform/tty.ts";
import { appCoreLimit, startParent } from "../platform/boundary.ts";
import type { Identity } from "../privileges/identity.ts";
import type { BoundaryOptions } from "../config/run-config.ts";
import { resolveCommand } from "./resolve.ts";
import type { LaunchSpec } from "./spec.ts";

/** Decide everything about the start before anything starts: a bad COMMAND is a 127/126 here. */
export function prepareLaunch(command: string[], env: Record<string, string>, identity?: Identity, boundary?: BoundaryOptions): LaunchSpec {
  const runner = identity ?? { uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!() };
  const path = resolveCommand(command[0]!, env.PATH, runner);
  const core = appCoreLimit();
  return {
    path, argv: command, env, ...(identity ? { identity } : {}), foreground: isTerminal(0),
    // parent: for --exec, latchkey's own parent (the app's after the exec); the supervisor
    // puts its pid here when it starts the app
    ...(boundary ? { boundary: { ...boundary, parent: startParent(), ...(core ? { core } : {}) } } : {}),
  };
}
