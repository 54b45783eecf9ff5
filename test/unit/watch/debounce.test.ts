import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Debouncer } from "../../../src/watch/debounce.ts";

describe("Debouncer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("turns a burst into one action after the quiet time", () => {
    const fire = vi.fn();
    const d = new Debouncer({ wait: 100, maxWait: 1000 }, fire);
    for (let i = 0; i < 50; i++) {
      d.trigger();
      vi.advanceTimersByTime(10);
    }
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(99);
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it("still fires at maxWait under a constant trickle", () => {
    const fire = vi.fn();
    const d = new Debouncer({ wait: 100, maxWait: 500 }, fire);
    const firedAt: number[] = [];
    fire.mockImplementation(() => firedAt.push(Date.now()));
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) {
      d.trigger();
      vi.advanceTimersByTime(50); // never 100 ms of quiet
    }
    // 10 s of trickle with maxWait 500 ms: about 20 actions, each ≤ 500 ms after its burst began.
    expect(fire.mock.calls.length).toBeGreaterThanOrEqual(18);
    expect(fire.mock.calls.length).toBeLessThanOrEqual(21);
    expect(firedAt[0]! - t0).toBeLessThanOrEqual(500);
    d.stop();
  });

  it("flush acts at once; stop drops a pending burst", () => {
    const fire = vi.fn();
    const d = new Debouncer({ wait: 100, maxWait: 100 }, fire);
    d.trigger();
    d.flush();
    expect(fire).toHaveBeenCalledTimes(1);
    d.trigger();
    d.stop();
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
    d.trigger();
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
  });
});
