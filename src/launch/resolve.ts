/**
 * Find COMMAND the way execvp and the shell do, but before anything starts, so that a typo
 * in CMD is a clear 127 and not a child that dies on exec. `process.execve` does no PATH
 * lookup at all.
 */
import { statSync, type Stats } from "node:fs";
import { delimiter, join } from "node:path";
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
    if (!isExecutableBy(st, runner)) throw notExecutable(command, st);
    return command;
  }
  let firstNonExec: { path: string; st: Stats } | undefined;
  for (const dir of (pathVar || DEFAULT_PATH).split(delimiter)) {
    // "./cmd", not "cmd": a slash-less path would be looked up in PATH again by spawn's execvp
    const candidate = dir === "" ? `./${command}` : join(dir, command);
    const st = statOrNull(candidate);
    if (!st) continue;
    if (isExecutableBy(st, runner)) return candidate;
    firstNonExec ??= { path: candidate, st };
  }
  if (firstNonExec) throw notExecutable(firstNonExec.path, firstNonExec.st);
  throw notFound(command, `${command}: command not found in PATH`);
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
  if (st.uid === r.uid) return (mode & 0o100) !== 0;
  if (st.gid === r.gid || r.groups.includes(st.gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

function notFound(command: string, message: string): LatchkeyError {
  return new LatchkeyError("not_found", ExitCode.NOT_FOUND, message, { cause: command });
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
