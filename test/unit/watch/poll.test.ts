import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, jittered, splay } from "../../../src/watch/backoff.ts";
import { defaultBackoffCap, PollScheduler, type PollOutcome } from "../../../src/watch/poll.ts";

describe("backoff and jitter", () => {
  it("jitters within ±fraction", () => {
    expect(jittered(1000, 0.1, () => 0)).toBe(900);
    expect(jittered(1000, 0.1, () => 0.999999)).toBe(1100);
    expect(jittered(1000, 0, () => 0.3)).toBe(1000);
  });

  it("doubles up to the cap, over the upper half", () => {
    const opts = { base: 100, cap: 1000 };
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    expect(backoffDelay(3, opts, () => 0)).toBe(200);
    expect(backoffDelay(50, opts, () => 1)).toBe(1000);
    expect(backoffDelay(50, opts, () => 0)).toBe(500);
  });

  it("splays in [0, max]", () => {
    expect(splay(0)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const s = splay(500);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(500);
    }
  });

  it("default cap is ten intervals, at most 5 min", () => {
    expect(defaultBackoffCap(1000)).toBe(10_000);
    expect(defaultBackoffCap(60_000)).toBe(300_000);
    expect(defaultBackoffCap(600_000)).toBe(600_000);
  });
});

describe("PollScheduler", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("polls at the interval, backs off on failures, recovers on success", async () => {
    let fail = true;
    const outcomes: PollOutcome[] = [];
    const task = vi.fn(async () => {
      if (fail) throw new Error("503");
    });
    const p = new PollScheduler({ interval: 100, jitter: 0, backoffCap: 800, random: () => 1 }, task, (o) => outcomes.push(o));
    p.start();
    await vi.advanceTimersByTimeAsync(100); // first poll fails
    for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(outcomes.at(-1)!.nextInMs);
    expect(outcomes.map((o) => o.nextInMs)).toEqual([100, 200, 400, 800, 800, 800, 800]);
    expect(outcomes.every((o) => !o.ok)).toBe(true);
    expect(p.failures).toBe(7);
    fail = false;
    await vi.advanceTimersByTimeAsync(800);
    expect(outcomes.at(-1)).toMatchObject({ ok: true, failures: 0, nextInMs: 100 });
    const calls = task.mock.calls.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(task.mock.calls.length).toBe(calls + 10);
    p.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(task.mock.calls.length).toBe(calls + 10);
  });

  it("a failure never brings the next poll sooner than one interval (an outage costs no more than health)", async () => {
    const outcomes: PollOutcome[] = [];
    const p = new PollScheduler({ interval: 100, jitter: 0, backoffCap: 800, random: () => 0 }, async () => {
      throw new Error("503");
    }, (o) => outcomes.push(o));
    p.start();
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 4; i++) await vi.advanceTimersByTimeAsync(outcomes.at(-1)!.nextInMs);
    p.stop();
    expect(outcomes.map((o) => o.nextInMs)).toEqual([100, 100, 200, 400, 400]);
  });

  it("never runs two polls at once", async () => {
    let inflight = 0;
    let max = 0;
    const p = new PollScheduler({ interval: 10, jitter: 0, backoffCap: 10 }, async () => {
      inflight++;
      max = Math.max(max, inflight);
      await new Promise((r) => setTimeout(r, 50));
      inflight--;
    });
    p.start();
    for (let i = 0; i < 20; i++) {
      p.now();
      await vi.advanceTimersByTimeAsync(7);
    }
    p.stop();
    expect(max).toBe(1);
  });
});

describe("PollScheduler past Node's timer limit (#13 item 1)", () => {
  it("an interval whose jitter passes 2^31-1 ms does not fire at once (Node would, and then again)", async () => {
    let runs = 0;
    const p = new PollScheduler({ interval: 2 ** 31 - 1, jitter: 0.1, backoffCap: 2 ** 31 - 1, random: () => 1 }, async () => {
      runs++;
    });
    p.start();
    await new Promise((r) => setTimeout(r, 100));
    p.stop();
    expect(runs).toBe(0);
  });
});
