/** The retry loop against real (local) targets: files, closed ports, unresolvable names. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseTarget } from "../../../src/health/target.ts";
import { waitFor, MAX_PAUSE_MS } from "../../../src/gate/wait.ts";
import { waitsStage } from "../../../src/gate/waits.ts";
import { now } from "../../../src/platform/clock.ts";

const dir = mkdtempSync(join(tmpdir(), "latchkey-wait-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const target = (raw: string) => parseTarget(raw, (v, why) => new Error(`${v}: ${why}`));
const never = new AbortController().signal;

describe("waitFor", () => {
  it("retries until the file appears", async () => {
    const f = join(dir, "ready");
    setTimeout(() => writeFileSync(f, ""), 400);
    const r = await waitFor(target(`file://${f}`), { deadline: now() + 10_000, signal: never });
    expect(r).toMatchObject({ state: "passed", timedOut: false });
    expect(r.attempts).toBeGreaterThan(2);
    expect(r.ms).toBeGreaterThanOrEqual(390);
  });

  it("a DNS failure is retried until the deadline, then reported as DNS", async () => {
    const r = await waitFor(target("tcp://no-such-host.invalid:80"), { deadline: now() + 1_200, signal: never });
    expect(r).toMatchObject({ state: "failed", timedOut: true });
    expect(r.last.reason).toBe("dns");
    expect(r.attempts).toBeGreaterThan(1);
  });

  it("backs off exponentially with jitter, capped", async () => {
    const f = join(dir, "never");
    const t = target(`file://${f}`);
    // Count attempts over ~2.5 s with jitter pinned to its maximum: 50+100+200+400+800+1000 ms.
    const r = await waitFor(t, { deadline: now() + 2_600, signal: never, random: () => 1 });
    expect(r.state).toBe("failed");
    expect(r.attempts).toBeGreaterThanOrEqual(5);
    expect(r.attempts).toBeLessThanOrEqual(8);
    expect(MAX_PAUSE_MS).toBe(1_000);
  });

  it("stops at once when the gate is interrupted", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort("SIGTERM"), 200);
    const t0 = now();
    const r = await waitFor(target(`file://${join(dir, "nope")}`), { deadline: now() + 30_000, signal: ac.signal });
    expect(r.state).toBe("cancelled");
    expect(now() - t0).toBeLessThan(1_500);
  });

  it("a per-check #timeout shortens that check's deadline", async () => {
    const r = await waitFor(target(`file://${join(dir, "nope")}#timeout=300ms`), { deadline: now() + 30_000, signal: never });
    expect(r).toMatchObject({ state: "failed", timedOut: true });
    expect(r.ms).toBeLessThan(1_500);
  });
});

describe("waitsStage", () => {
  it("reports every check, passed and failed, with attempts and times", async () => {
    const ok = join(dir, "ok");
    writeFileSync(ok, "");
    const stage = waitsStage([target(`file://${ok}`), target(`file://${join(dir, "missing")}`)], 500);
    const rep = await stage.run(never);
    expect(rep.ok).toBe(false);
    expect(rep.items.map((i) => [i.state, i.reason])).toEqual([["passed", "ok"], ["failed", "missing"]]);
    expect(rep.items[1]!.detail).toMatch(/^no such file; not ready after \d+ ms$/);
  });
});
