/**
 * How to start, signal and stop the app — the "child" layer (consul-template style). It
 * knows nothing about why; the supervisor decides when.
 */
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { SIGNALS } from "../platform/signal-numbers.ts";
import { ESRCH, libc } from "../platform/libc.ts";
import { canPosixSpawn, posixSpawn } from "../platform/spawn.ts";
import { appCoreLimit, asSignalSender, noNewPrivileges, setInheritable, withAppCoreLimit } from "../platform/boundary.ts";
import { startedInForeground } from "../platform/terminal.ts";
import { alreadyIdentity, canSwitchThread, switchThread } from "../privileges/drop.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";
import { SHIM_ARG } from "../launch/shim-arg.ts";
import { SPEC_FD, type ShimMessage } from "../launch/shim.ts";
import { log } from "../log/logger.ts";
import type { LaunchBoundary, LaunchSpec } from "../launch/spec.ts";
import { execFailure } from "../launch/resolve.ts";
import { adoptPid, claimPid, prepareAdoption, releasePid } from "./reaper.ts";
import { signalName, type SignalName } from "./signals.ts";

export interface ExitStatus {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: SignalName | null;
  /** What latchkey should exit with: the code, or 128+n for signal n. */
  exitCode: number;
}

export class Child {
  readonly pid: number;
  /** The app's process group (its own pid: it is always a group leader). */
  readonly pgid: number;
  readonly exited: Promise<ExitStatus>;
  #status: ExitStatus | null = null;

  private constructor(pid: number, exited: Promise<ExitStatus>) {
    this.pid = pid;
    this.pgid = pid;
    this.exited = exited.then((s) => (this.#status = s));
  }

  /** A child libuv started (child_process): libuv waits for it. */
  static #ofProcess(proc: ChildProcess): Child {
    const pid = proc.pid!;
    claimPid(pid);
    return new Child(pid, new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        releasePid(pid);
        const n = signal ? SIGNALS[signal] ?? 0 : 0;
        resolve({ code, signal, exitCode: signal ? 128 + n : (code ?? 0) });
      });
    }));
  }

  /** A child started with posix_spawn: the reaper waits for it. */
  static #ofPid(pid: number): Child {
    return new Child(pid, new Promise((resolve) => adoptPid(pid, (status) => resolve(decodeWaitStatus(status)))));
  }

  get running(): boolean {
    return this.#status === null;
  }

  /**
   * Start the app. Directly (posix_spawn, platform/spawn.ts) when nothing of ours must run
   * between fork and exec (one runtime start, the fast path; a user switch included, see
   * privileges/drop.ts switchThread); through the exec shim for the terminal foreground, a
   * parent-death signal, or a user switch where one thread's ids cannot be set alone. Throws when the spawn fails; through
   * child_process (no FFI, or the shim) the reason (errno) of some failures is only known a
   * tick later, so prefer `launch`, which waits for it.
   */
  static start(spec: LaunchSpec): Child {
    const proc = spawnOrThrow(spec);
    if (typeof proc === "number") return Child.#ofPid(proc);
    if (proc.pid === undefined) {
      // Node emits ENOENT/EACCES/EAGAIN/EMFILE on the next tick: without a listener that
      // 'error' event would crash latchkey with a stack trace.
      proc.on("error", () => {});
      throw new LatchkeyError("os", ExitCode.OS, `cannot start ${spec.argv[0]}: spawn failed`);
    }
    proc.on("error", () => {}); // reported through exit
    return Child.#ofProcess(proc);
  }

  /** Like `start`, but a failed spawn is reported with its reason and the shell's exit code. */
  static async launch(spec: LaunchSpec): Promise<Child> {
    const proc = spawnOrThrow(spec);
    if (typeof proc === "number") return Child.#ofPid(proc);
    if (proc.pid === undefined) {
      const err = await new Promise<unknown>((resolve) => proc.once("error", resolve));
      throw spawnFailure(spec, err);
    }
    proc.on("error", () => {}); // reported through exit
    return Child.#ofProcess(proc);
  }

  /** Send `sig` to the app, or to its whole group. Never throws; false when nothing was there. */
  signal(sig: SignalName, group = false): boolean {
    if (group) {
      try {
        asSignalSender(() => process.kill(-this.pgid, sig));
        return true;
      } catch {
        // group not formed yet (the shim has not run setpgid): fall back to the process
      }
    }
    if (!this.running) return false;
    try {
      asSignalSender(() => process.kill(this.pid, sig));
      return true;
    } catch {
      return false;
    }
  }

  /** Is any process (zombies included) still in the app's process group? */
  groupAlive(): boolean {
    // kill(2) through FFI: the usual answer at exit is ESRCH (the group is gone), and
    // process.kill makes that an exception, which costs more than the binding (measured here).
    const c = libc();
    if (c) return c.kill(-this.pgid, 0) === 0 || c.errno() !== ESRCH;
    // Without FFI nothing reaps orphans, and kill(-pgid, 0) counts their zombies: every exit
    // would wait out the whole grace period. Only processes that can still run count.
    const live = liveInGroup(this.pgid);
    if (live !== null) return live;
    try {
      process.kill(-this.pgid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== "ESRCH";
    }
  }
}

/** spawnApp, with posix_spawn's failures (known at once) as the LatchkeyError a start reports. */
function spawnOrThrow(spec: LaunchSpec): ChildProcess | number {
  try {
    return spawnApp(spec);
  } catch (e) {
    throw spawnFailure(spec, e);
  }
}

/** A pid (posix_spawn: the reaper waits for it) or a libuv child; throws when posix_spawn fails. */
function spawnApp(requested: LaunchSpec): ChildProcess | number {
  // With a terminal on stdin the app stays in latchkey's session (the direct spawn's setsid
  // would cut it off the terminal), in a group of its own; it gets the foreground only if
  // latchkey had it, otherwise it is a background job, as latchkey was.
  const foreground = requested.foreground && startedInForeground();
  const withForeground = foreground === requested.foreground ? requested : { ...requested, foreground };
  // The death signal is watched from the app's pid: its parent is this process. The core
  // limit goes to the shim for every start (hooks too): latchkey's own is 0.
  const core = withForeground.boundary?.core ?? appCoreLimit();
  const b: LaunchBoundary = { passFds: [], noNewPrivs: false, ...withForeground.boundary, parent: process.pid, ...(core ? { core } : {}) };
  const spec: LaunchSpec = { ...withForeground, boundary: b };
  const passFds = b.passFds;
  // A parent-death signal needs code of ours in the child, after the privilege drop: only the
  // shim runs any. As PID 1 it is moot (latchkey's death ends the PID namespace, the app with it).
  const deathSignal = b.deathSignal !== undefined && process.pid !== 1;
  // Another user: as PID 1 the main thread switches to it for the posix_spawn
  // (privileges/drop.ts switchThread), no second runtime start. Not as PID 1 the app could
  // SIGKILL or SIGSTOP latchkey while the main thread has the app's real uid (the kernel drops
  // those signals only for a namespace's init), so there the shim drops privileges instead.
  const user = spec.identity && !alreadyIdentity(spec.identity) ? spec.identity : undefined;
  const direct = canPosixSpawn() && (user === undefined || (process.pid === 1 && canSwitchThread()));
  const needsShim = requested.foreground || deathSignal || (user !== undefined && !direct);
  if (!needsShim) {
    // posix_spawn runs none of our code in the child: no_new_privs goes on latchkey itself,
    // and everything it starts from now on inherits it (it never needs to gain privileges).
    if (b.noNewPrivs) noNewPrivileges();
    // Own session and process group (setsid), so --signal-group and the grace kill reach
    // exactly the app's processes.
    if (direct) {
      prepareAdoption();
      const c = libc()!;
      return withAppCoreLimit(() => {
        setInheritable(c, passFds, true);
        try {
          if (!user) return posixSpawn(spec.path, spec.argv, spec.env);
          let pid: number | undefined;
          const thread = switchThread(user, "spawn");
          try {
            pid = posixSpawn(spec.path, spec.argv, spec.env, true);
          } finally {
            thread.back(pid);
          }
          return pid;
        } finally {
          setInheritable(c, passFds, false);
        }
      });
    }
    const stdio: ("inherit" | "ignore" | number)[] = ["inherit", "inherit", "inherit", ...descriptorSlots(passFds, passFds.reduce((m, fd) => Math.max(m, fd + 1), 3))];
    return childProcess().spawn(spec.path, spec.argv.slice(1), { argv0: spec.argv[0], env: spec.env, stdio, detached: true });
  }
  const self = selfCommand();
  // The spec's pipe goes after every passed descriptor, which keep their numbers.
  const specFd = passFds.reduce((m, fd) => Math.max(m, fd + 1), SPEC_FD);
  const proc = childProcess().spawn(self.file, [...self.args, SHIM_ARG, String(specFd)], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["inherit", "inherit", "inherit", ...descriptorSlots(passFds, specFd), "pipe"],
    detached: false,
  });
  if (proc.pid !== undefined) {
    libc()?.setpgid(proc.pid, proc.pid);
    const pipe = proc.stdio[specFd] as NodeJS.WritableStream | null;
    pipe?.on("error", () => {}); // the shim may die before reading; its exit status says why
    const message: ShimMessage = { ...spec, log: { format: log.format, level: log.level } };
    pipe?.end(JSON.stringify(message));
  }
  return proc;
}

/**
 * libuv's stdio slots 3..end-1: a passed descriptor at its own number (libuv clears its
 * close-on-exec in the child only), nothing in the others (left to close at exec).
 */
function descriptorSlots(passFds: readonly number[], end: number): (number | "ignore")[] {
  const slots: (number | "ignore")[] = [];
  for (let fd = 3; fd < end; fd++) slots.push(passFds.includes(fd) ? fd : "ignore");
  return slots;
}

/** Loaded when first needed: with posix_spawn a plain start never needs it (it loads node:net). */
function childProcess(): typeof import("node:child_process") {
  return process.getBuiltinModule("node:child_process") as typeof import("node:child_process");
}

/** waitpid's status → code, or signal and 128+n (as a shell reports it). */
export function decodeWaitStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) {
    const code = (status >> 8) & 0xff;
    return { code, signal: null, exitCode: code };
  }
  return { code: null, signal: signalName(sig) ?? null, exitCode: 128 + sig };
}

/**
 * Resolution and the format check ruled out the usual causes before anything started; what
 * is left here is a race (file removed), a noexec mount (EACCES), or the OS out of resources.
 */
function spawnFailure(spec: LaunchSpec, e: unknown): LatchkeyError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "EACCES" || code === "ENOEXEC") return execFailure(spec.path, e);
  return new LatchkeyError("os", ExitCode.OS, `cannot start ${spec.argv[0]}: ${(e as Error).message}`);
}

/** Is a non-zombie process in group `pgid`? null when /proc cannot tell. */
function liveInGroup(pgid: number): boolean | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // fields after "(comm)": state ppid pgrp ...; comm may contain spaces and parentheses
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid && f[0] !== "Z") return true;
  }
  return false;
}

/** How to run this latchkey again: the single executable, or `node [flags] latchkey.cjs`. */
export function selfCommand(): { file: string; args: string[] } {
  const sea = process.getBuiltinModule("node:sea") as { isSea?: () => boolean } | undefined;
  if (sea?.isSea?.()) return { file: process.execPath, args: [] };
  const flags = process.execArgv.filter((a) => a.startsWith("--experimental-ffi") || a === "--no-warnings");
  if (!flags.includes("--experimental-ffi")) flags.push("--experimental-ffi");
  // as the single executable: a SIGUSR1 reaching the shim must not open an inspector port
  flags.push("--disable-sigusr1");
  return { file: process.execPath, args: [...flags, process.argv[1]!] };
}
