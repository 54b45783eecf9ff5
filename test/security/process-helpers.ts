/**
 * Shared by test/security/process-*.test.ts: run the built latchkey as an unprivileged uid
 * (setpriv), read what the app printed, and look at processes from outside.
 */
import { readFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { sleep } from "../helpers/processes.ts";

export const NOBODY_UID = 65534;
/** setpriv's arguments to become uid/gid 65534 with no supplementary groups (no capabilities left). */
export const AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/**
 * Everything a process printed on stdout since the first printed() call on it: a later call
 * must also see lines that arrived in the same chunk as an earlier call's (under load the app's
 * lines come in one read, and a fresh listener would miss them).
 */
const seen = new WeakMap<ChildProcess, { out: string }>();

/** Resolve with the value of `key=VALUE` once a line of that form appears on the process's stdout. */
export function printed(proc: ChildProcess, key: string, timeoutMs = 20_000): Promise<string> {
  let buf = seen.get(proc);
  if (!buf) {
    const b = { out: "" };
    proc.stdout!.on("data", (d: Buffer) => (b.out += d.toString()));
    seen.set(proc, b);
    buf = b;
  }
  const state = buf;
  const pattern = new RegExp(`^${key}=(.*)$`, "m");
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = pattern.exec(state.out);
      if (!m) return false;
      finish();
      resolve(m[1]!);
      return true;
    };
    const onData = () => void setImmediate(check); // after the recording listener appended
    const onExit = (code: number | null, signal: string | null) => {
      if (check()) return;
      finish();
      reject(new Error(`exited (${code ?? signal}) before printing ${key}= (stdout: ${JSON.stringify(state.out)})`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out waiting for ${key}= on stdout (got: ${JSON.stringify(state.out)})`));
    }, timeoutMs);
    function finish(): void {
      clearTimeout(timer);
      proc.stdout!.off("data", onData);
      proc.off("exit", onExit);
    }
    proc.stdout!.on("data", onData);
    proc.once("exit", onExit);
    check();
  });
}

/** Is `pid` a process that can still run (not gone, not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Wait up to `ms` for `pid` to be dead; true when it is. */
export async function diesWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** The process's exit (not its pipes' close: an orphaned app may hold them open). */
export function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
}

export function killQuietly(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/** A field of /proc/PID/limits, e.g. "Max core file size": [soft, hard]. */
export function limit(pid: number, name: string): [string, string] {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8").split("\n").find((l) => l.startsWith(name))!;
  const f = line.slice(name.length).trim().split(/\s+/);
  return [f[0]!, f[1]!];
}
