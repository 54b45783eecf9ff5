/**
 * Find COMMAND the way execvp and the shell do, but before anything starts, so that a typo
 * in CMD is a clear 127 and not a child that dies on exec. `process.execve` does no PATH
 * lookup at all.
 */
import { statSync, type Stats } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { ExitCode, LatchkeyError } from "../errors.ts";
import { checkFormat } from "./format.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Runner {
  uid: number;
  gid: number;
  groups: number[];
}

/** Find COMMAND and check that the kernel can run it (launch/format.ts). */
export function resolveCommand(command: string, pathVar: string | undefined, runner: Runner): string {
  const path = findCommand(command, pathVar, runner);
  checkFormat(path, { canExecute: (p) => { const st = statOrNull(p); return st !== null && isExecutableBy(st, runner); } });
  return path;
}

export function findCommand(command: string, pathVar: string | undefined, runner: Runner): string {
  if (command.includes("/")) {
    const st = statOrNull(command);
    if (!st) throw notFound(command, `${command}: no such file`);
    const blocked = unsearchableDir(command, runner);
    if (blocked) throw dirNotSearchable(command, blocked, runner);
    if (!isExecutableBy(st, runner)) throw notExecutable(command, st);
    return command;
  }
  let firstNonExec: LatchkeyError | undefined;
  for (const dir of (pathVar || DEFAULT_PATH).split(delimiter)) {
    // "./cmd", not "cmd": a slash-less path would be looked up in PATH again by spawn's execvp
    const candidate = dir === "" ? `./${command}` : join(dir, command);
    const st = statOrNull(candidate);
    if (!st) continue;
    const blocked = unsearchableDir(candidate, runner);
    if (blocked) firstNonExec ??= dirNotSearchable(candidate, blocked, runner);
    else if (isExecutableBy(st, runner)) return candidate;
    else firstNonExec ??= notExecutable(candidate, st);
  }
  if (firstNonExec) throw firstNonExec;
  throw notFound(command, `${command}: command not found in PATH`);
}

/**
 * The first directory on the way to `path` that the app's user may not search, or null.
 * latchkey runs as root and sees everything; the app, once it is `--user app`, does not:
 * the classic case is an app installed under /root (mode 700). Without this the failure
 * would be a bare EACCES from execve.
 */
export function unsearchableDir(path: string, r: Runner): string | null {
  if (r.uid === 0) return null;
  const chain: string[] = [];
  for (let d = dirname(resolve(path)); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    const st = statOrNull(d);
    if (st && !permits(st, r, 0o1)) return d;
  }
  return null;
}

/** Does `st`'s mode give `r` the permission `bit` (1 = execute/search) by owner, group or other? */
function permits(st: Stats, r: Runner, bit: number): boolean {
  if (st.uid === r.uid) return (st.mode & (bit << 6)) !== 0;
  if (st.gid === r.gid || r.groups.includes(st.gid)) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/** Permission check for the user the app will run as, not for latchkey (often root). */
export function isExecutableBy(st: Stats, r: Runner): boolean {
  if (!st.isFile()) return false;
  const mode = st.mode;
  if (r.uid === 0) return (mode & 0o111) !== 0;
  return permits(st, r, 0o1);
}

function notFound(command: string, message: string): LatchkeyError {
  return new LatchkeyError("not_found", ExitCode.NOT_FOUND, message, { cause: command });
}

function dirNotSearchable(path: string, dir: string, r: Runner): LatchkeyError {
  return new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE,
    `${path}: permission denied: the app user (uid ${r.uid}) cannot enter directory ${dir}`);
}

function notExecutable(path: string, st: Stats): LatchkeyError {
  const why = st.isDirectory() ? "is a directory" : !st.isFile() ? "is not a regular file" : "permission denied (not executable for the app user)";
  return new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE, `${path}: ${why}`);
}

/** Map an execve failure (after resolution succeeded) to the shell's codes. */
export function execFailure(path: string, e: unknown): LatchkeyError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new LatchkeyError("not_found", ExitCode.NOT_FOUND, `${path}: cannot execute: file or its interpreter not found`);
  }
  const reason = code === "ENOEXEC" ? "exec format error"
    : code === "EACCES" ? "permission denied (is it on a noexec mount?)" : (e as Error).message;
  return new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE, `${path}: cannot execute: ${reason}`);
}
