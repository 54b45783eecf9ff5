import { afterEach, describe, expect, it, vi } from "vitest";
import { settleAfterStart } from "../../../src/platform/memory.ts";
import type { Logger } from "../../../src/log/logger.ts";

function logger(): { log: Logger; settled: Record<string, unknown>[] } {
  const settled: Record<string, unknown>[] = [];
  const log = { debug: (msg: string, f: Record<string, unknown>) => msg === "memory settled after the start" && settled.push(f) } as unknown as Logger;
  return { log, settled };
}

describe("settleAfterStart", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("collects once after the delay; while busy it waits another delay each time", () => {
    vi.useFakeTimers();
    const { log, settled } = logger();
    let busyChecks = 0;
    settleAfterStart(log, () => ++busyChecks <= 2, 1000);
    vi.advanceTimersByTime(999);
    expect(busyChecks).toBe(0);
    vi.advanceTimersByTime(1001); // busy at 1 s and 2 s
    expect(busyChecks).toBe(2);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(busyChecks).toBe(3);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ usedMB: expect.any(Number), usedAfterMB: expect.any(Number) });
    vi.advanceTimersByTime(10_000);
    expect(settled).toHaveLength(1);
  });

  it("cancelled first, or cancelled while waiting out a busy spell: nothing", () => {
    vi.useFakeTimers();
    const { log, settled } = logger();
    settleAfterStart(log, () => false, 1000)();
    let busy = true;
    const cancel = settleAfterStart(log, () => busy, 1000);
    vi.advanceTimersByTime(1500);
    cancel();
    busy = false;
    vi.advanceTimersByTime(5000);
    expect(settled).toEqual([]);
  });

  it("the collection leaves no gc function behind in this context", () => {
    vi.useFakeTimers();
    settleAfterStart(logger().log, () => false, 10);
    vi.advanceTimersByTime(10);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
