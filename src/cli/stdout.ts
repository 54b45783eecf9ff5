/**
 * latchkey's own stdout (help, version, `check`, `health`). Node creates process.stdout on
 * first access, and creating it loads the stream machinery: ~1.5 ms of every start (measured
 * here) for a run that never prints. So it is touched only by a write, and the exit waits for
 * a drain only when something was written.
 */
let used = false;

export function writeStdout(text: string): void {
  used = true;
  process.stdout.write(text);
}

/** Exit with `code` once what latchkey wrote to stdout has left (stdout may be a slow pipe). */
export function exitAfterStdout(code: number): void {
  if (used && process.stdout.writableLength > 0) process.stdout.once("drain", () => process.exit(code));
  else process.exit(code);
}
