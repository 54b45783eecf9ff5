/**
 * Finding 15: descriptors latchkey inherited must not cross into the app, in any mode: the
 * app gets 0, 1, 2 and those named with --pass-fd. latchkey is started with extra open
 * descriptors 3, 7, 30 and 100 (a file only root can open, as a careless parent would leak
 * it; Node marks a few low ones close-on-exec at its own start, so the high ones matter most);
 * the app (a shell) lists its own.
 */
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { start, type RunResult } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";

const dir = tempDir();
const leaked = join(dir, "root-only");
writeFileSync(leaked, "", { mode: 0o600 });
const EXTRA = [3, 7, 30, 100];
const opened = EXTRA.map(() => openSync(leaked, "r"));
afterAll(() => opened.forEach((fd) => closeSync(fd)));

/** A stdio array with our descriptor at each of `at`, nothing between. */
function stdioWith(at: readonly number[]): ("pipe" | "ignore" | number)[] {
  const stdio: ("pipe" | "ignore" | number)[] = ["pipe", "pipe", "pipe"];
  for (let fd = 3; fd <= Math.max(...at); fd++) stdio.push(at.includes(fd) ? opened[EXTRA.indexOf(fd)]! : "ignore");
  return stdio;
}

/** The shell's own descriptors (ls runs as its child: no pipe of a command substitution in the way). */
const LIST = 'echo fds:; ls /proc/$$/fd; echo end; for f in 3 7 30 100; do [ -e /proc/$$/fd/$f ] && echo "fd$f=$(readlink /proc/$$/fd/$f)"; done; true';

function fdsOf(r: RunResult): number[] {
  const m = /^fds:\n([\s\S]*?)^end$/m.exec(r.stdout);
  if (!m) throw new Error(`the app did not list its descriptors (exit ${r.code}): ${r.stderr.trim()}`);
  return m[1]!.split("\n").filter((l) => l !== "").map(Number).sort((a, b) => a - b);
}

/** latchkey with our descriptors at 3, 7, 30 and 100; the app lists its fds. `pid1`: as PID 1 of a new PID namespace. */
function withExtraFds(args: string[], pid1 = false): Promise<RunResult> {
  const argv = [...args, "--", "sh", "-c", LIST];
  const [file, full] = pid1 ? ["unshare", ["--pid", "--fork", "--mount-proc", LATCHKEY, ...argv]] : [LATCHKEY, argv];
  return start(file, full, {
    stdio: stdioWith(EXTRA),
    env: { PATH: process.env.PATH!, HOME: dir },
    timeoutMs: 30_000,
  }).done;
}

describe.each([
  ["supervise", []],
  ["supervise --user nobody (exec shim)", ["--user", "nobody"]],
  ["supervise --parent-death-signal (exec shim)", ["--parent-death-signal", "KILL"]],
  ["--exec", ["--exec"]],
  ["--exec --user nobody", ["--exec", "--user", "nobody"]],
])("%s", (_, mode) => {
  it("the app gets 0, 1 and 2 only", async () => {
    const r = await withExtraFds(mode);
    expect(r.code, r.stderr).toBe(0);
    expect(fdsOf(r)).toEqual([0, 1, 2]);
  });

  it("--pass-fd 3 --pass-fd 30: the app gets those two as well, the same open files", async () => {
    const r = await withExtraFds([...mode, "--pass-fd", "3", "--pass-fd", "30"]);
    expect(r.code, r.stderr).toBe(0);
    expect(fdsOf(r)).toEqual([0, 1, 2, 3, 30]);
    expect(r.stdout).toContain(`fd3=${leaked}\n`);
    expect(r.stdout).toContain(`fd30=${leaked}\n`);
  });
});

describe("as PID 1 (unshare --pid --fork --mount-proc)", () => {
  it.each([[[]], [["--user", "nobody"]], [["--exec"]]])("%j: the app gets 0, 1 and 2 only; --pass-fd 30 adds 30", async (mode) => {
    const r = await withExtraFds(mode, true);
    expect(r.code, r.stderr).toBe(0);
    expect(fdsOf(r)).toEqual([0, 1, 2]);
    const passed = await withExtraFds([...mode, "--pass-fd", "30"], true);
    expect(passed.code, passed.stderr).toBe(0);
    expect(fdsOf(passed)).toEqual([0, 1, 2, 30]);
  });
});

describe("--pass-fd: a bad descriptor is refused before the app starts", () => {
  it.each([
    [["--pass-fd", "4"], "--pass-fd: descriptor 4 is latchkey's own (its event loop's)"],
    [["--pass-fd", "500"], "--pass-fd: descriptor 500 is not open"],
    [["--pass-fd", "2"], "--pass-fd: invalid value '2': 0, 1 and 2 are always passed"],
    [["--pass-fd", "x"], "--pass-fd: invalid value 'x': expected a descriptor number"],
  ])("%j", async (args, message) => {
    const r = await withExtraFds(args);
    expect(r.code).toBe(64);
    expect(r.stdout).not.toContain("fds:");
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("LATCHKEY_PASS_FD=7,100 is the same as --pass-fd 7 --pass-fd 100", async () => {
    const r = await start(LATCHKEY, ["--", "sh", "-c", LIST], {
      stdio: stdioWith(EXTRA),
      env: { PATH: process.env.PATH!, HOME: dir, LATCHKEY_PASS_FD: "7,100" },
      timeoutMs: 30_000,
    }).done;
    expect(r.code, r.stderr).toBe(0);
    expect(fdsOf(r)).toEqual([0, 1, 2, 7, 100]);
  });
});
