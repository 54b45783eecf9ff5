/**
 * The exit status contract: the app's code passes through unchanged, death by signal n is
 * 128+n, in supervise mode (latchkey waits and reports) and in exec mode (the app is the
 * process, so it holds by construction; every code is still checked).
 */
import { constants } from "node:os";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { fx, pool } from "../../helpers/processes.ts";

/** Catchable signals whose default action ends the process (stop/ignore ones cannot kill it). */
const DEADLY = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGUSR1",
  "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGXCPU", "SIGXFSZ", "SIGVTALRM",
  "SIGPROF", "SIGIO", "SIGPWR", "SIGSYS"] as const;

const signo = (s: string) => (constants.signals as Record<string, number>)[s]!;

describe("exit codes, supervise mode", () => {
  it("passes every code 0-255 through", async () => {
    const codes = Array.from({ length: 256 }, (_, i) => i);
    const got = await pool(codes, 6, async (c) => (await latchkey(["--", ...fx("exit-with.sh", String(c))])).code);
    expect(got).toEqual(codes);
  }, 180_000); // 256 runs: ~15 s idle, ~45 s on two cores shared with other suites

  it.each(DEADLY)("exits 128+n when the app dies of %s", async (sig) => {
    const r = await latchkey(["--", ...fx("die-of.py", sig)]);
    expect(r.code).toBe(128 + signo(sig));
    expect(r.signal).toBeNull(); // latchkey itself exits normally, with the code
  });

  it("exits 137 when the app is SIGKILLed", async () => {
    const r = await latchkey(["--", "sh", "-c", "kill -KILL $$"]);
    expect(r.code).toBe(137);
  });
});

describe("exit codes, exec mode", () => {
  it("passes every code 0-255 through", async () => {
    const codes = Array.from({ length: 256 }, (_, i) => i);
    const got = await pool(codes, 6, async (c) => (await latchkey(["--exec", "--", ...fx("exit-with.sh", String(c))])).code);
    expect(got).toEqual(codes);
  }, 180_000);

  it("the app's death by signal is the process's own (the caller sees the signal)", async () => {
    const r = await latchkey(["--exec", "--", ...fx("die-of.py", "SIGTERM")]);
    expect(r.signal).toBe("SIGTERM");
  });
});
