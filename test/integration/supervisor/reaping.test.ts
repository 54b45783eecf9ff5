/**
 * Orphan reaping. Every run is in a fresh PID namespace with its own /proc, so the zombie
 * count the fixture reads covers exactly the processes of this test.
 */
import { describe, expect, it } from "vitest";
import { latchkeyPid1, run } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { fx, PY } from "../../helpers/processes.ts";

function zombies(stdout: string): number {
  const m = /zombies=(\d+) orphans=(\d+)/.exec(stdout);
  if (!m) throw new Error(`orphan-maker printed no count: ${JSON.stringify(stdout)}`);
  return Number(m[1]);
}

describe("reaping orphans", () => {
  it("as PID 1: 1,000 orphans over 3 s leave 0 zombies and the app's exit code passes through", async () => {
    const r = await latchkeyPid1(["--", ...fx("orphan-maker.py", "1000", "3", "7")]);
    expect(r.stderr).toBe("");
    expect(zombies(r.stdout)).toBe(0);
    expect(r.stdout).toContain("orphans=1000");
    expect(r.code).toBe(7);
  });

  it("as PID 1: a storm (3,000 orphans as fast as they come) is reaped on a timer, then on SIGCHLD again; 0 zombies, exit code intact", async () => {
    const r = await latchkeyPid1(["--log-level", "debug", "--", ...fx("orphan-maker.py", "3000", "0", "9")]);
    expect(zombies(r.stdout)).toBe(0);
    expect(r.stdout).toContain("orphans=3000");
    expect(r.stderr).toMatch(/orphan storm: reaping on a timer instead of on SIGCHLD/);
    // Over before the app's exit: the maker waits for its orphans and their zombies to go.
    expect(r.stderr).toMatch(/orphan storm over: reaping on SIGCHLD again/);
    expect(r.code).toBe(9);
  });

  it("as PID 1 with the app started through the exec shim (--user): same", async () => {
    const r = await latchkeyPid1(["--user", "0:0", "--", ...fx("orphan-maker.py", "200", "1", "8")]);
    expect(r.stderr).toBe("");
    expect(zombies(r.stdout)).toBe(0);
    expect(r.code).toBe(8);
  });

  it("the same check fails without latchkey: the fixture as PID 1 leaves its orphans as zombies", async () => {
    // Proves the zombie count above can be non-zero: nothing reaps here.
    const r = await run("unshare", ["--pid", "--fork", "--mount-proc", ...fx("orphan-maker.py", "50", "0.5", "7", "0.5")]);
    expect(zombies(r.stdout)).toBe(50);
    expect(r.code).toBe(7);
  });

  it("as child subreaper (not PID 1): orphans are reaped too", async () => {
    // PID 1 of the namespace is a Python parent that waits only for its own child (a shell
    // would waitpid(-1) and reap the orphans itself), so the orphans are reaped only if
    // latchkey registered as child subreaper.
    const parent = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))";
    const r = await run("unshare", ["--pid", "--fork", "--mount-proc", PY, "-c", parent,
      LATCHKEY, "--", ...fx("orphan-maker.py", "200", "1", "5")]);
    expect(r.stderr).toBe("");
    expect(zombies(r.stdout)).toBe(0);
    expect(r.code).toBe(5);
  });
});
