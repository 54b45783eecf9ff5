import { isTerminal } from "../platform/tty.ts";
import type { Identity } from "../privileges/identity.ts";
import { resolveCommand } from "./resolve.ts";
import type { LaunchSpec } from "./spec.ts";

/** Decide everything about the start before anything starts: a bad COMMAND is a 127/126 here. */
export function prepareLaunch(command: string[], env: Record<string, string>, identity?: Identity): LaunchSpec {
  const runner = identity ?? { uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!() };
  const path = resolveCommand(command[0]!, env.PATH, runner);
  return { path, argv: command, env, ...(identity ? { identity } : {}), foreground: isTerminal(0) };
}
