/**
 * Will the kernel let the app start with this environment? execve refuses (E2BIG) a string
 * over MAX_ARG_STRLEN (32 pages: 128 KiB, NUL included) and argv + envp together over a quarter
 * of the stack size limit (at most 6 MiB, at least 128 KiB; fs/exec.c). Found at spawn time, the
 * refusal is a bare "Argument list too long" (71 or 126) after the gate ran, and `check` would
 * have said ok: measure it here, before anything starts, naming the variables at fault.
 */
import { readFileSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../errors.ts";

const MAX_ARG_STRLEN = 128 * 1024;
const ARG_MAX = 128 * 1024;
const STK_LIM = 8 * 1024 * 1024;
/** latchkey's own additions on the way (the exec shim's arguments, the resolved path). */
const MARGIN = 8 * 1024;

export function assertExecFits(argv: readonly string[], env: Readonly<Record<string, string>>, stackLimit?: number): void {
  let total = MARGIN;
  const sizes: Array<[string, number]> = [];
  for (const [k, v] of Object.entries(env)) {
    const n = Buffer.byteLength(k) + 1 + Buffer.byteLength(v) + 1;
    if (n > MAX_ARG_STRLEN) {
      throw tooLarge(`the app's variable ${k} is ${kib(n)} KiB; the kernel passes at most 128 KiB per variable (MAX_ARG_STRLEN), so the app could not start`);
    }
    total += n + 8;
    sizes.push([k, n]);
  }
  for (let i = 0; i < argv.length; i++) {
    const n = Buffer.byteLength(argv[i]!) + 1;
    if (n > MAX_ARG_STRLEN) throw tooLarge(`argument ${i} of COMMAND is ${kib(n)} KiB; the kernel passes at most 128 KiB per argument (MAX_ARG_STRLEN)`);
    total += n + 8;
  }
  if (total <= ARG_MAX) return; // the usual case: no need to ask the kernel for the stack limit
  stackLimit ??= stackSoftLimit();
  const limit = Math.max(Math.min(STK_LIM / 4 * 3, stackLimit / 4), ARG_MAX);
  if (total <= limit) return;
  const largest = sizes.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k} ${kib(n)} KiB`).join(", ");
  const stack = Number.isFinite(stackLimit) ? `${kib(stackLimit)} KiB` : "unlimited";
  throw tooLarge(`the app's environment and arguments are too large to start it: ${kib(total)} KiB, over the kernel's limit of ${kib(limit)} KiB` +
    ` (a quarter of the stack size limit, ulimit -s = ${stack}); largest: ${largest || "none"}`);
}

function tooLarge(message: string): LatchkeyError {
  return new LatchkeyError("data", ExitCode.DATA, message);
}

function kib(n: number): number {
  return Math.ceil(n / 1024);
}

/** RLIMIT_STACK's soft limit in bytes (Infinity when unlimited); node has no getrlimit. */
function stackSoftLimit(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max stack size"));
    const soft = line?.slice("Max stack size".length).trim().split(/\s+/)[0];
    if (soft === "unlimited") return Infinity;
    const n = Number(soft);
    if (Number.isFinite(n) && n > 0) return n;
  } catch {
    // no /proc: assume the usual 8 MiB
  }
  return STK_LIM;
}
