/**
 * Ending latchkey's process. As process.exit does, the 'exit' listeners run first; then,
 * when node:ffi is loaded already (every supervised start loads it), _exit(2) instead of
 * Node's teardown, which joins the platform's threads and frees the heap: ~0.3-0.5 ms of a
 * `latchkey -- /bin/true` (measured here), with nothing left for it to do. latchkey writes its
 * output synchronously (fd 1 and 2 with write(2); a stdout stream is drained before this is
 * called) and has waited for every child by then.
 *
 * Node writes coverage (NODE_V8_COVERAGE) and profiles (--cpu-prof, --heap-prof) in that
 * teardown: with either, it keeps it.
 */
import { loadedLibc } from "./libc.ts";

export function exitProcess(code: number): never {
  const c = process.env.NODE_V8_COVERAGE || process.execArgv.some((a) => a.startsWith("--cpu-prof") || a.startsWith("--heap-prof")) ? null : loadedLibc();
  if (!c) process.exit(code);
  process.exitCode = code;
  process.emit("exit", code);
  return c._exit(code);
}
