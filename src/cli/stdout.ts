/**
 * latchkey's own stdout (help, version, `check`, `health`). Node creates process.stdout on
 * first access, and creating it loads the stream machinery: ~1.5 ms of a start (measured
 * here), a lot for `latchkey health`, which prints one line every few seconds in every
 * container. So text goes to fd 1 with write(2), as the logger writes to fd 2; the stream is
 * made only when fd 1 cannot take it now (a non-blocking pipe that is full), and then the exit
 * waits for it to drain.
 */
import { writeSync } from "node:fs";
import { exitProcess } from "../platform/exit.ts";

let stream = false;

export function writeStdout(text: string): void {
  if (stream) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(1, bytes, off);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EPIPE") return; // the reader is gone (`latchkey help | head -1`): nothing to say it to
    if (code !== "EAGAIN") throw e;
    stream = true;
    process.stdout.write(bytes.subarray(off));
  }
}

/** Exit with `code` once what latchkey wrote to stdout has left. */
export function exitAfterStdout(code: number): void {
  if (stream && process.stdout.writableLength > 0) process.stdout.once("drain", () => exitProcess(code));
  else exitProcess(code);
}
