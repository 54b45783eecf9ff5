/**
 * What the app inherits from latchkey: its pid in exec mode, and clean signal dispositions
 * in every way of starting it. Node ignores SIGPIPE and SIGXFSZ and blocks SIGUSR1; ignored
 * and blocked signals survive execve, so a careless launcher hands them to the app.
 */
import { describe, expect, it } from "vitest";
import { latchkey, latchkeyPid1, run, type RunResult } from "../../helpers/run.ts";
import { fx, PY, statusFields } from "../../helpers/processes.ts";
import { LATCHKEY } from "../../helpers/paths.ts";

const bit = (signo: number) => 1n << BigInt(signo - 1);
const SIGUSR1 = 10;
const SIGPIPE = 13;
const SIGXFSZ = 25;
const SIGTTIN = 21;
const SIGTTOU = 22;

function fields(r: RunResult): Record<string, string> {
  expect(r.code, r.stderr).toBe(0);
  return statusFields(r.stdout);
}

function expectCleanSignals(f: Record<string, string>): void {
  const ign = BigInt(`0x${f.SigIgn}`);
  for (const [name, n] of [["SIGPIPE", SIGPIPE], ["SIGXFSZ", SIGXFSZ], ["SIGTTIN", SIGTTIN], ["SIGTTOU", SIGTTOU]] as const) {
    expect(ign & bit(n), `${name} must not be ignored (SigIgn ${f.SigIgn})`).toBe(0n);
  }
  // the test runner starts latchkey with nothing ignored or blocked, so the app must see the same
  expect(f.SigIgn).toBe("0000000000000000");
  expect(BigInt(`0x${f.SigBlk}`) & bit(SIGUSR1), "SIGUSR1 blocked").toBe(0n);
  expect(f.SigBlk).toBe("0000000000000000");
}

describe("exec mode", () => {
  it("the app replaces latchkey: it is PID 1 of the namespace", async () => {
    const f = fields(await latchkeyPid1(["--exec", "--", ...fx("sigmask.sh")]));
    expect(f.Pid).toBe("1");
    expect(f.NSpid?.split(/\s+/).at(-1)).toBe("1");
  });

  it("the app keeps latchkey's pid outside a namespace too", async () => {
    const r = await latchkey(["--exec", "--", ...fx("sigmask.sh")]);
    // the pid the test runner spawned is the pid that printed its status
    const f = fields(r);
    expect(Number(f.PPid)).toBe(process.pid);
  });

  it("SIGPIPE and SIGXFSZ are not ignored and no signal is blocked (SIGUSR1 included)", async () => {
    expectCleanSignals(fields(await latchkeyPid1(["--exec", "--", ...fx("sigmask.sh")])));
  });

  it("a pipeline reader that goes away kills the app with SIGPIPE, as without latchkey", async () => {
    const r = await latchkey(["--exec", "--", "sh", "-c", "yes | head -c 1 >/dev/null; exit 0"]);
    expect(r.code).toBe(0);
    const r2 = await latchkey(["--exec", "--", "sh", "-c", "(yes; echo rc=$? >&2) | head -c 1 >/dev/null"]);
    expect(r2.stderr).toContain(`rc=${128 + SIGPIPE}`);
  });
});

describe("supervise mode", () => {
  it("direct spawn: the child starts with default dispositions and an empty mask", async () => {
    const f = fields(await latchkeyPid1(["--", ...fx("sigmask.sh")]));
    expect(f.Pid).not.toBe("1"); // latchkey is PID 1, the app its child
    expect(f.PPid).toBe("1");
    expectCleanSignals(f);
  });

  it("through the exec shim (--user): the same", async () => {
    const f = fields(await latchkeyPid1(["--user", "0:0", "--", ...fx("sigmask.sh")]));
    expect(f.PPid).toBe("1");
    expectCleanSignals(f);
  });

  it("a writer to a closed pipe dies of SIGPIPE (141 from the shell)", async () => {
    const r = await latchkey(["--", "sh", "-c", "(yes; echo rc=$? >&2) | head -c 1 >/dev/null"]);
    expect(r.stderr).toContain(`rc=${128 + SIGPIPE}`);
  });
});

describe("file descriptors", () => {
  // Python's subprocess closes every descriptor above 2 before starting latchkey, so what the
  // app holds beyond stdio can only come from latchkey (the test runner leaks a few of its own).
  const clean = ["-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"];
  const listFds = ["ls", "/proc/self/fd"];

  it.each([
    ["supervise", []],
    ["supervise through the shim", ["--user", "0:0"]],
    ["exec", ["--exec"]],
  ])("%s: the app holds stdio and nothing else", async (_m, flags) => {
    const r = await run(PY, [...clean, LATCHKEY, ...flags, "--", ...listFds]);
    expect(r.code, r.stderr).toBe(0);
    // "3" is ls's own handle on the directory it lists
    expect(r.stdout.trim().split(/\s+/)).toEqual(["0", "1", "2", "3"]);
  });
});
