import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { supervise } from "../../../src/supervisor/supervise.ts";
import { Runner, type RunnerOptions } from "../../../src/supervisor/runner.ts";
import { defaultTable } from "../../../src/supervisor/signals.ts";
import { Logger } from "../../../src/log/logger.ts";
import { Redactor } from "../../../src/log/redact.ts";
import type { LaunchSpec } from "../../../src/launch/spec.ts";

const lines: string[] = [];
function logger(): Logger {
  const l = new Logger(2, new Redactor());
  l.level = "debug";
  l.write = (t: string) => void lines.push(t);
  return l;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms; supervisor log:\n${lines.join("")}`);
    await sleep(10);
  }
}

let dir: string;
afterEach(() => {
  lines.length = 0;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An app that writes its pid and $V to a file, then waits; TERM ends it with 143. */
function appSpec(out: string, v: string, script = 'echo "$$ $V" >> "$OUT"; exec sleep 100'): LaunchSpec {
  return { path: "/bin/sh", argv: ["sh", "-c", script], env: { PATH: "/usr/bin:/bin", OUT: out, V: v }, foreground: false };
}
const base: RunnerOptions = { table: defaultTable(), signalGroup: false, stopTimeout: 2000, grace: 500, restartSplay: 0, restartOnExit: false };
const superviseOpts = { table: defaultTable(), signalGroup: false, stopTimeout: 2000, grace: 500 };
const records = (f: string) => (existsSync(f) ? readFileSync(f, "utf8").trim().split("\n") : []);

describe("Runner", () => {
  it("restarts onto the new env: old app gone before the new one starts", async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-run-"));
    const out = join(dir, "out");
    const spec = appSpec(out, "one");
    const r = new Runner(spec, base, logger());
    const done = supervise(spec, superviseOpts, logger(), r);
    await until(() => records(out).length === 1);
    const oldPid = r.child!.pid;
    expect(await r.restart({ ...spec.env, V: "two" }, {})).toBe(true);
    await until(() => records(out).length === 2);
    expect(records(out)[1]).toMatch(/ two$/);
    expect(() => process.kill(oldPid, 0)).toThrow();
    expect(r.stats.restarts).toBe(1);
    process.emit("SIGTERM", "SIGTERM");
    expect(await done).toBe(143);
  });

  it("SIGTERM in the middle of a restart: no new app, exit 143 promptly", async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-run-"));
    const out = join(dir, "out");
    // The app takes 1 s to stop on TERM, then exits 0.
    const spec = appSpec(out, "one", 'trap "sleep 1; exit 0" TERM; echo "$$ $V" >> "$OUT"; while :; do sleep 0.05; done');
    const r = new Runner(spec, base, logger());
    const done = supervise(spec, superviseOpts, logger(), r);
    await until(() => records(out).length === 1);
    const restarting = r.restart({ ...spec.env, V: "two" }, {});
    await sleep(200);
    const t0 = Date.now();
    process.emit("SIGTERM", "SIGTERM");
    expect(await done).toBe(143);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await restarting).toBe(false);
    await sleep(200);
    expect(records(out)).toHaveLength(1);
  });

  it("restart splay is cut short by a stop signal", async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-run-"));
    const out = join(dir, "out");
    const spec = appSpec(out, "one");
    const r = new Runner(spec, { ...base, restartSplay: 60_000, random: () => 1 }, logger());
    const done = supervise(spec, superviseOpts, logger(), r);
    await until(() => records(out).length === 1);
    const restarting = r.restart({ ...spec.env, V: "two" }, {});
    await sleep(100);
    process.emit("SIGTERM", "SIGTERM");
    expect(await done).toBe(143);
    expect(await restarting).toBe(false);
    expect(records(out)).toHaveLength(1);
  });

  it("signal action delivers the signal to the running app", async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-run-"));
    const out = join(dir, "out");
    const spec = appSpec(out, "one", 'trap "echo hup >> \\"$OUT\\"" HUP; echo "$$ $V" >> "$OUT"; while :; do sleep 0.05; done');
    const r = new Runner(spec, base, logger());
    const done = supervise(spec, superviseOpts, logger(), r);
    await until(() => records(out).length === 1);
    expect(r.signal("SIGHUP", {})).toBe(true);
    await until(() => records(out).includes("hup"));
    process.emit("SIGTERM", "SIGTERM");
    await done;
  });

  it("without --restart-on-exit the app's exit ends supervision with its code; with it, it restarts with backoff", async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-run-"));
    const out = join(dir, "out");
    const once = appSpec(out, "x", 'echo "$$" >> "$OUT"; exit 3');
    expect(await supervise(once, superviseOpts, logger(), new Runner(once, base, logger()))).toBe(3);
    const r = new Runner(once, { ...base, restartOnExit: true, exitBackoff: { base: 50, cap: 200, resetAfter: 10_000 } }, logger());
    const done = supervise(once, superviseOpts, logger(), r);
    const delaysNow = () => lines.filter((l) => l.includes("restarting it")).map((l) => Number(/inMs=(\d+)/.exec(l)![1]));
    await until(() => delaysNow().length >= 4);
    const delays = delaysNow();
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 200]);
    process.emit("SIGTERM", "SIGTERM");
    expect(await done).toBe(143);
  });

  it("a rotation while the app waits for its --restart-on-exit start: that start takes the new env", async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-run-"));
    const out = join(dir, "out");
    const spec = appSpec(out, "one", 'echo "$$ $V" >> "$OUT"; [ "$V" = one ] && exit 1; exec sleep 100');
    const r = new Runner(spec, { ...base, restartOnExit: true, exitBackoff: { base: 1000, cap: 1000, resetAfter: 60_000 } }, logger());
    const done = supervise(spec, superviseOpts, logger(), r);
    await until(() => lines.some((l) => l.includes("restarting it")));
    expect(await r.restart({ ...spec.env, V: "two" }, {})).toBe(true);
    await until(() => records(out).length === 2);
    expect(records(out)[1]).toMatch(/ two$/);
    process.emit("SIGTERM", "SIGTERM");
    expect(await done).toBe(143);
  });
});
