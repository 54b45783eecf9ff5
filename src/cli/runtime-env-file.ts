/**
 * `--env-file FILE` before `--` is read twice: by latchkey (an alias of --dotenv, src/env/flags.ts)
 * and, before any latchkey code runs, by the Node runtime inside the executable, which claims
 * that flag even in a single executable and loads FILE into latchkey's *own* environment (a
 * missing FILE makes it exit 9). Left there, those values would sit in latchkey's process.env
 * outside the redactor's and the precedence rules' reach, and a LATCHKEY_* line in the file
 * would configure latchkey itself. So they are taken out again, by comparing process.env with
 * the environment the kernel gave the process (/proc/self/environ): Node's loader only adds
 * variables that were not set. The file's contents still reach the app, through --dotenv.
 */
import { readFileSync } from "node:fs";

const RUNTIME_FLAG = /^--env-file(-if-exists)?(=|$)/;

/** Returns the names it removed. */
export function undoRuntimeEnvFile(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const end = argv.indexOf("--");
  const own = end === -1 ? argv : argv.slice(0, end);
  if (!own.some((a) => RUNTIME_FLAG.test(a))) return [];
  let original: Set<string>;
  try {
    original = new Set(readFileSync("/proc/self/environ", "latin1").split("\0").map((kv) => kv.slice(0, kv.indexOf("="))));
  } catch {
    return []; // no /proc: nothing to compare with
  }
  const removed = Object.keys(env).filter((k) => !original.has(k));
  for (const k of removed) delete env[k];
  return removed;
}
