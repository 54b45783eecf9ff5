/**
 * The reaper's storm mode (src/supervisor/reaper.ts): a burst of orphans switches it from
 * SIGCHLD to polling and back. Each case runs in a node with FFI (the test runner has none),
 * as child subreaper, with real orphans: a Python process forks N children that exit at once
 * and exits without waiting, so N zombies are reparented to the subreaper together.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { PY } from "../../helpers/processes.ts";

const src = join(import.meta.dirname, "../../../src");

/** Run `body` (an async ES module body) in a node with FFI; it prints one JSON line, returned parsed. */
function inReaperProcess(body: string): Record<string, unknown> {
  const code = `
    import { spawnSync } from "node:child_process";
    import { readdirSync, readFileSync } from "node:fs";
    import { Reaper, adoptPid, claimPid, prepareAdoption, releasePid } from ${JSON.stringify(join(src, "supervisor/reaper.ts"))};
    import { posixSpawn } from ${JSON.stringify(join(src, "platform/spawn.ts"))};
    const log = { warn: (m) => { throw new Error(m); }, debug: () => {} };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const until = async (pred, ms = 5000) => {
      const end = Date.now() + ms;
      while (!pred()) { if (Date.now() > end) throw new Error("timed out: " + pred); await sleep(1); }
    };
    /** N orphans at once: a Python process forks N children that exit, and exits itself. */
    const burst = (n) => {
      const r = spawnSync(${JSON.stringify(PY)}, ["-c", "import os\\nfor i in range(" + n + "):\\n  if os.fork() == 0: os._exit(0)\\n"]);
      if (r.status !== 0) throw new Error("burst failed: " + r.stderr);
    };
    /** Our zombie children. */
    const zombies = () => {
      let z = 0;
      for (const d of readdirSync("/proc")) {
        if (!/^\\d+$/.test(d)) continue;
        let s;
        try { s = readFileSync("/proc/" + d + "/stat", "utf8"); } catch { continue; }
        const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
        if (f[0] === "Z" && Number(f[1]) === process.pid) z++;
      }
      return z;
    };
    /** Whether a handler for SIGCHLD (17) is installed: the kernel wakes us for each exit only then. */
    const sigchldCaught = () => {
      const m = /^SigCgt:\\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
      return ((BigInt("0x" + m[1]) >> 16n) & 1n) === 1n;
    };
    const out = {};
    ${body}
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ["--experimental-ffi", "--no-warnings", "--input-type=module", "-e", code], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`node -e failed (${r.status} ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

it("a storm of 300 orphans is reaped by polling with SIGCHLD unhandled, then reaping goes back to SIGCHLD", () => {
  const out = inReaperProcess(`
    const r = new Reaper(log);
    out.mode = r.mode;
    r.start();
    out.caughtBefore = sigchldCaught();
    burst(300);
    await until(() => r.storming);
    // The kernel no longer wakes us for each exit: no handler, default disposition.
    out.caughtDuring = sigchldCaught();
    out.listenersDuring = process.listenerCount("SIGCHLD");
    await until(() => r.reaped >= 300);
    await until(() => !r.storming);
    out.zombiesAfter = zombies();
    out.caughtAfter = sigchldCaught();
    out.listenersAfter = process.listenerCount("SIGCHLD");
    out.storms = r.storms;
    // Back on SIGCHLD: one orphan, too few for a storm, is reaped on its signal (no timer left).
    burst(1);
    await until(() => r.reaped === 301, 2000);
    out.stormsAfterOne = r.storms;
    out.zombiesEnd = zombies();
    r.stop();`);
  expect(out).toEqual({
    mode: "subreaper",
    caughtBefore: true, caughtDuring: false, listenersDuring: 0,
    zombiesAfter: 0, caughtAfter: true, listenersAfter: 1, storms: 1,
    stormsAfterOne: 1, zombiesEnd: 0,
  });
});

it("an adopted pid's exit reaches its owner during a storm, from the next pass", () => {
  const out = inReaperProcess(`
    const r = new Reaper(log);
    r.start();
    prepareAdoption();
    burst(300);
    await until(() => r.storming);
    let status = null, seenAt = 0;
    const t0 = performance.now();
    const pid = posixSpawn("/bin/sh", ["sh", "-c", "exit 3"], {});
    adoptPid(pid, (s) => { status = s; seenAt = performance.now(); });
    out.storming = r.storming;
    await until(() => status !== null, 2000);
    out.status = status >> 8;
    out.withinMs = seenAt - t0 < 200;
    r.stop();`);
  // Without the storm's passes collecting adopted pids, only the minute's look would: timeout.
  expect(out).toEqual({ storming: true, status: 3, withinMs: true });
});

it("a storm takes no exit status from libuv: an owned pid that exits mid-storm is left for its owner", () => {
  // The owned pid makes orphans until it is killed (grandchildren whose parent exits at once,
  // so they are reparented to us), and is killed while the reaper polls. It is started with
  // posix_spawn and claimed, standing in for a libuv child that libuv has not collected yet:
  // a pass must leave its zombie alone (a waitpid(-1) would take the status libuv waits for).
  const out = inReaperProcess(`
    const { libc } = await import(${JSON.stringify(join(src, "platform/libc.ts"))});
    const r = new Reaper(log);
    r.start();
    const storm = "import os\\nwhile True:\\n  p = os.fork()\\n  if p == 0:\\n    os.fork()\\n    os._exit(0)\\n  os.waitpid(p, 0)";
    const pid = posixSpawn(${JSON.stringify(PY)}, ["python3", "-c", storm], {});
    claimPid(pid);
    const state = () => { try { const s = readFileSync("/proc/" + pid + "/stat", "utf8"); return s[s.lastIndexOf(")") + 2]; } catch { return "gone"; } };
    await until(() => r.storming);
    process.kill(pid, "SIGKILL");
    await until(() => state() !== "R" && state() !== "S");
    out.stormingAtExit = r.storming;
    await until(() => !r.storming);
    await sleep(20);
    out.stateAfterStorm = state();
    // The owner collects it, as libuv would.
    const status = Buffer.alloc(4);
    out.owner = libc().waitpid(pid, status, 0) === pid ? "signal " + (status.readInt32LE(0) & 0x7f) : "stolen";
    releasePid(pid);
    r.reap();
    out.zombies = zombies();
    r.stop();`);
  expect(out).toEqual({ stormingAtExit: true, stateAfterStorm: "Z", owner: "signal 9", zombies: 0 });
});

it("stop() during a storm leaves no timer: later orphans stay zombies and nothing holds the process", () => {
  const out = inReaperProcess(`
    const r = new Reaper(log);
    r.start();
    burst(300);
    await until(() => r.storming);
    r.stop();
    out.storming = r.storming;
    out.listeners = process.listenerCount("SIGCHLD");
    const before = r.reaped;
    burst(20);
    await sleep(100);
    // A poll left running would have reaped these.
    out.reapedAfterStop = r.reaped - before;
    out.zombies = zombies() >= 20;`);
  expect(out).toEqual({ storming: false, listeners: 0, reapedAfterStop: 0, zombies: true });
});
