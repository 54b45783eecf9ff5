/**
 * Signal forwarding, against the real signal table. A recorder fixture writes one line per
 * signal it receives; each signal is sent to latchkey and must show up exactly once.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FORWARDED } from "../../../src/supervisor/signals.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { start, type RunResult } from "../../helpers/run.ts";
import { fx, latchkeyUnder, lines, sleep, tempDir, waitFor, waitForFile } from "../../helpers/processes.ts";

interface Recording {
  /** Host pid to send signals to (latchkey itself). */
  target: number;
  out: string;
  ready: string;
  done: Promise<RunResult>;
  /** Where the grandchild (if any) records its signals. */
  gc: string;
}

/** Start latchkey [flags] -- recorder [recorderArgs]; as PID 1 of a new namespace when pid1. */
async function record(flags: string[], recorderArgs: string[], pid1 = false, env: NodeJS.ProcessEnv = {}): Promise<Recording> {
  const dir = tempDir();
  const out = join(dir, "signals");
  const ready = join(dir, "ready");
  // "GC" in the recorder's arguments stands for the grandchild's record file
  const args = recorderArgs.map((a) => (a === "GC" ? join(dir, "grandchild") : a));
  const app = fx("signal-recorder.py", "--out", out, "--ready", ready, ...args);
  const cmd = pid1
    ? start("unshare", ["--pid", "--fork", "--mount-proc", LATCHKEY, ...flags, "--", ...app], { timeoutMs: 60_000, env: { ...process.env, ...env } })
    : start(LATCHKEY, [...flags, "--", ...app], { timeoutMs: 60_000, env: { ...process.env, ...env } });
  const target = pid1 ? await latchkeyUnder(cmd.proc.pid!) : cmd.proc.pid!;
  await waitForFile(ready);
  return { target, out, ready, done: cmd.done, gc: join(dir, "grandchild") };
}

/**
 * After the app exits latchkey sends its leftover group SIGTERM then SIGCONT (a stopped
 * process cannot act on SIGTERM). Whether the CONT is recorded before the TERM kills the
 * recorder is a race, so assertions about the grace stop leave it out.
 */
function noCont(l: string[]): string[] {
  return l.filter((s) => s !== "SIGCONT");
}

/** Send `sig` to `pid` and wait until `file` has `n` lines. */
async function sendAndSee(pid: number, sig: NodeJS.Signals, file: string, n: number): Promise<void> {
  process.kill(pid, sig);
  await waitFor(() => lines(file).length >= n, `${sig} to be recorded in ${file}`, 10_000);
}

describe.each([
  ["as PID 1 of a PID namespace", true],
  ["as child subreaper (not PID 1)", false],
])("forwarding %s", (_name, pid1) => {
  it("delivers each signal of the forward table exactly once, in order", async () => {
    // TERM goes last: it ends the recorder. --stop-timeout 0: INT and QUIT in the sequence
    // must not start the SIGKILL timer while the rest is still being sent.
    const order = [...FORWARDED.filter((s) => s !== "SIGTERM"), "SIGTERM" as const];
    const rec = await record(["--stop-timeout", "0"], ["--die-on", "SIGTERM"], pid1);
    for (const [i, sig] of order.entries()) await sendAndSee(rec.target, sig, rec.out, i + 1);
    const r = await rec.done;
    expect(lines(rec.out)).toEqual(order);
    expect(r.code).toBe(143);
    expect(r.stderr).toBe("");
  });
});

describe.each([
  ["as PID 1 of a PID namespace", true],
  ["as child subreaper (not PID 1)", false],
])("--signal-group and --rewrite %s", (_name, pid1) => {
  it("--signal-group: a signal reaches a grandchild in the app's process group too", async () => {
    const rec = await record(["--signal-group"], ["--die-on", "SIGTERM", "--grandchild", "GC"], pid1);
    process.kill(rec.target, "SIGUSR1");
    await waitFor(() => lines(rec.out).length === 1 && lines(rec.gc).length === 1, "SIGUSR1 at app and grandchild");
    process.kill(rec.target, "SIGTERM");
    const r = await rec.done;
    expect(r.code).toBe(143);
    expect(lines(rec.out)).toEqual(["SIGUSR1", "SIGTERM"]);
    // the grandchild died of the group SIGTERM (--die-on SIGTERM is its default)
    expect(noCont(lines(rec.gc))).toEqual(["SIGUSR1", "SIGTERM"]);
  });

  it("--rewrite TERM:QUIT delivers SIGQUIT when SIGTERM arrives", async () => {
    const rec = await record(["--rewrite", "TERM:QUIT"], ["--die-on", "SIGQUIT"], pid1);
    process.kill(rec.target, "SIGTERM");
    const r = await rec.done;
    expect(lines(rec.out)).toEqual(["SIGQUIT"]);
    expect(r.code).toBe(128 + 3);
  });
});

describe("--signal-group", () => {
  it("without it, only the app gets the signal; the grandchild gets nothing", async () => {
    const rec = await record([], ["--exit-on", "SIGUSR2", "--exit-code", "3", "--grandchild", "GC"]);
    process.kill(rec.target, "SIGUSR1");
    await waitFor(() => lines(rec.out).length === 1, "SIGUSR1 at the app");
    // give a wrongly forwarded copy time to arrive before looking
    await sleep(300);
    expect(lines(rec.gc)).toEqual([]);
    process.kill(rec.target, "SIGUSR2");
    const r = await rec.done;
    expect(r.code).toBe(3);
    expect(lines(rec.out)).toEqual(["SIGUSR1", "SIGUSR2"]);
    // after the app exits, the leftover grandchild gets SIGTERM from the grace stop, nothing else
    expect(noCont(lines(rec.gc))).toEqual(["SIGTERM"]);
  });
});

describe("--rewrite", () => {
  it("USR1:0 drops SIGUSR1; other signals still pass", async () => {
    const rec = await record(["--rewrite", "USR1:0"], ["--die-on", "SIGTERM"]);
    process.kill(rec.target, "SIGUSR1");
    process.kill(rec.target, "SIGUSR2");
    await waitFor(() => lines(rec.out).length >= 1, "SIGUSR2 at the app");
    await sleep(300);
    process.kill(rec.target, "SIGTERM");
    const r = await rec.done;
    expect(lines(rec.out)).toEqual(["SIGUSR2", "SIGTERM"]);
    expect(r.code).toBe(143);
  });

  it("LATCHKEY_REWRITE takes a comma-separated list", async () => {
    const rec = await record([], ["--die-on", "SIGUSR2"], false, { LATCHKEY_REWRITE: "HUP:USR1, INT:USR2" });
    process.kill(rec.target, "SIGHUP");
    await waitFor(() => lines(rec.out).length === 1, "rewritten SIGHUP");
    process.kill(rec.target, "SIGINT");
    const r = await rec.done;
    expect(lines(rec.out)).toEqual(["SIGUSR1", "SIGUSR2"]);
    expect(r.code).toBe(128 + 12);
  });
});

describe("--stop-timeout", () => {
  it("SIGKILLs an app that survives the forwarded SIGTERM, after the timeout (exit 137)", async () => {
    // the recorder catches SIGTERM and carries on, as a stuck app would
    const rec = await record(["--stop-timeout", "1s"], []);
    const t0 = Date.now();
    process.kill(rec.target, "SIGTERM");
    const r = await rec.done;
    const took = Date.now() - t0;
    expect(lines(rec.out)).toEqual(["SIGTERM"]);
    expect(r.code).toBe(137);
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(8_000);
    expect(r.stderr).toMatch(/^latchkey: .*stop timeout.*SIGKILL/m);
  });

  it("counts from the stop signal as received, even when it is rewritten", async () => {
    const rec = await record(["--stop-timeout", "1s", "--rewrite", "TERM:USR1"], []);
    process.kill(rec.target, "SIGTERM");
    const r = await rec.done;
    expect(lines(rec.out)).toEqual(["SIGUSR1"]);
    expect(r.code).toBe(137);
  });

  it("does not fire when the app exits in time", async () => {
    const rec = await record(["--stop-timeout", "2s"], ["--exit-on", "SIGTERM", "--exit-code", "0"]);
    process.kill(rec.target, "SIGTERM");
    const r = await rec.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });
});

describe("--grace", () => {
  it("stops a leftover grandchild after the app exits, and exits with the app's code", async () => {
    // the app exits 9 as soon as its grandchild is ready; the grandchild dies of SIGTERM, so
    // latchkey is done long before the 5 s grace runs out
    const rec = await record(["--grace", "5s"], ["--grandchild", "GC", "--exit-after", "0", "--exit-code", "9"]);
    const readyAt = Date.now();
    const r = await rec.done;
    expect(r.code).toBe(9);
    expect(noCont(lines(rec.gc))).toEqual(["SIGTERM"]);
    expect(Date.now() - readyAt).toBeLessThan(4_000);
  });

  it("SIGKILLs a grandchild that ignores SIGTERM once the grace period is over", async () => {
    const rec = await record(["--grace", "1s"],
      ["--grandchild", "GC", "--grandchild-ignore", "SIGTERM", "--exit-after", "0", "--exit-code", "4"]);
    const readyAt = Date.now();
    const r = await rec.done;
    const afterReady = Date.now() - readyAt;
    expect(r.code).toBe(4);
    // SIGTERM is ignored and SIGKILL cannot be recorded; the SIGCONT that follows the SIGTERM
    // (so that a stopped process can act on it) is all the grandchild saw
    expect(lines(rec.gc)).toEqual(["SIGCONT"]);
    expect(afterReady).toBeGreaterThanOrEqual(900);
    expect(afterReady).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/grace period; sending SIGKILL/);
  });
});
