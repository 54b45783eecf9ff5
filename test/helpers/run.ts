/**
 * Run the built binary (or any command) as a real process and collect everything it
 * printed. Every process started here is tracked and killed if a test forgets it, and all
 * output is recorded for the redaction sweep (test/integration/redaction.test.ts).
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";
import { LATCHKEY, ROOT } from "./paths.ts";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions extends SpawnOptions {
  input?: string;
  timeoutMs?: number;
}

/** Every stdout/stderr byte the suite sees is appended here; the redaction sweep reads it. */
export const OUTPUT_LOG = join(ROOT, ".cache", "test-output.log");
mkdirSync(join(ROOT, ".cache"), { recursive: true });

const live = new Set<ChildProcess>();
afterAll(() => {
  for (const p of live) {
    try {
      if (p.pid) process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export function start(file: string, args: string[], opts: RunOptions = {}): { proc: ChildProcess; done: Promise<RunResult> } {
  const t0 = performance.now();
  const proc = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], ...opts });
  live.add(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  if (opts.input !== undefined) proc.stdin?.end(opts.input);
  else proc.stdin?.end();
  const timer = opts.timeoutMs ? setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs) : null;
  const done = new Promise<RunResult>((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      live.delete(proc);
      try {
        appendFileSync(OUTPUT_LOG, `${stdout}\n${stderr}\n`);
      } catch {
        // the sweep will notice a missing log
      }
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
  return { proc, done };
}

export function run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return start(file, args, { timeoutMs: 60_000, ...opts }).done;
}

/**
 * `argv` in a private mount namespace, after the shell script `setup` ran there: the mounts it
 * makes (a tmpfs over /etc/latchkey, say) are seen by `argv` alone, not by the machine. The
 * script gets `setupArgs` as $1, $2...
 */
export function inMountNamespace(setup: string, argv: string[], opts: RunOptions = {}, setupArgs: string[] = []): Promise<RunResult> {
  const script = `${setup} && shift ${setupArgs.length} && exec "$@"`;
  return run("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", ...setupArgs, ...argv], opts);
}

/** Run dist/latchkey with args. */
export function latchkey(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(LATCHKEY, args, opts);
}

/** Run dist/latchkey as PID 1 of a fresh PID namespace (with its own /proc). */
export function latchkeyPid1(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run("unshare", ["--pid", "--fork", "--mount-proc", LATCHKEY, ...args], opts);
}
