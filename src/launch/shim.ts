/**
 * The exec shim. Node's spawn runs none of our code between fork and exec, but a real init
 * needs some there: its own process group, the terminal's foreground, the app user's
 * supplementary groups (spawn({uid,gid}) would clear them). So the supervisor spawns latchkey
 * itself in this mode; it does those steps and then execve()s the app, which keeps this
 * process's pid — the pid the supervisor already tracks.
 *
 * The spec (argv, env, identity) arrives on a pipe (fd 3, or the first one after the
 * --pass-fd descriptors; its number follows SHIM_ARG), not in argv or environ, so that the
 * app's environment is not exposed to this Node process's own options (NODE_OPTIONS) and no
 * secret ever appears in a command line.
 *
 * The shim holds the app's secrets from then on: it is made non-dumpable first thing, like
 * latchkey (platform/boundary.ts), and inherits latchkey's RLIMIT_CORE of 0.
 */
import { closeSync, readFileSync } from "node:fs";
import { isTerminal } from "../platform/tty.ts";
import { LatchkeyError, ExitCode, isLatchkeyError } from "../errors.ts";
import { libc, SIG_DFL, SIG_IGN } from "../platform/libc.ts";
import { sealSelf } from "../platform/boundary.ts";
import { SHIM_ARG } from "./shim-arg.ts";
import { execInto } from "./exec.ts";
import type { LaunchSpec } from "./spec.ts";
import { log, type LogFormat, type LogLevel } from "../log/logger.ts";

export const SPEC_FD = 3;
const SIGTTIN = 21;
const SIGTTOU = 22;

/** What the supervisor sends on SPEC_FD: the launch, and how to log a failure like it does. */
export interface ShimMessage extends LaunchSpec {
  log?: { format: LogFormat; level: LogLevel };
}

export function runShim(): never {
  sealSelf();
  let spec: ShimMessage;
  try {
    const at = process.argv.indexOf(SHIM_ARG);
    const fd = Number(process.argv[at + 1] ?? SPEC_FD);
    spec = JSON.parse(readFileSync(fd, "utf8")) as ShimMessage;
    closeSync(fd);
    if (spec.log) {
      log.format = spec.log.format;
      log.level = spec.log.level;
    }
  } catch (e) {
    return die(new LatchkeyError("internal", ExitCode.INTERNAL, `exec shim: cannot read launch spec: ${(e as Error).message}`));
  }
  try {
    const c = libc();
    if (c) {
      // The supervisor does the same from its side; whichever runs first wins, both are needed
      // so that neither a signal to the group nor tcsetpgrp can race the other.
      c.setpgid(0, 0);
      if (spec.foreground && isTerminal(0)) {
        // A background group calling tcsetpgrp gets SIGTTOU; ignore it for the call, then
        // restore the default so the app does not inherit an ignored SIGTTOU/SIGTTIN.
        c.signal(SIGTTOU, SIG_IGN);
        c.signal(SIGTTIN, SIG_IGN);
        c.tcsetpgrp(0, c.getpgrp());
        c.signal(SIGTTOU, SIG_DFL);
        c.signal(SIGTTIN, SIG_DFL);
      }
    }
    return execInto(spec);
  } catch (e) {
    return die(e);
  }
}

function die(e: unknown): never {
  const err = isLatchkeyError(e) ? e : new LatchkeyError("internal", ExitCode.INTERNAL, String(e));
  // the same line the supervisor would have written (format, level, code field)
  log.error(err.message.split("\n")[0]!, { code: err.code });
  process.exit(err.exitCode);
}
