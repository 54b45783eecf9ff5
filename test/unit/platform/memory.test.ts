import { afterEach, describe, expect, it, vi } from "vitest";
import * as vm from "node:vm";
import { settleWhileRunning } from "../../../src/platform/memory.ts";
import type { Logger } from "../../../src/log/logger.ts";

function logger(): { log: Logger; settled: Record<string, unknown>[]; said: string[] } {
  const settled: Record<string, unknown>[] = [];
  const said: string[] = [];
  const log = {
    debug: (msg: string, f: Record<string, unknown>) => {
      said.push(msg);
      if (msg === "memory settled") settled.push(f);
    },
  } as unknown as Logger;
  return { log, settled, said };
}

describe("settleWhileRunning", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("a runtime that refuses (no gc function): said once at debug level, no throw, no more tries", () => {
    vi.useFakeTimers();
    const refuse = vi.spyOn(process.getBuiltinModule("node:vm") as typeof vm, "runInNewContext").mockImplementation(() => {
      throw new ReferenceError("gc is not defined");
    });
    const { log, settled, said } = logger();
    settleWhileRunning(log, () => false, 1000, 5000);
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    expect(settled).toEqual([]);
    expect(said).toEqual(["memory not settled: the runtime refused a collection; not trying again"]);
    vi.advanceTimersByTime(60_000);
    expect(refuse).toHaveBeenCalledTimes(1);
  });

  it("collects after the first delay, then every period; while busy it tries again after the first delay", () => {
    vi.useFakeTimers();
    const { log, settled } = logger();
    let busyChecks = 0;
    settleWhileRunning(log, () => ++busyChecks <= 2, 1000, 60_000);
    vi.advanceTimersByTime(999);
    expect(busyChecks).toBe(0);
    vi.advanceTimersByTime(1001); // busy at 1 s and 2 s
    expect(busyChecks).toBe(2);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ usedMB: expect.any(Number), usedAfterMB: expect.any(Number) });
    vi.advanceTimersByTime(59_999);
    expect(settled).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(settled).toHaveLength(2);
    vi.advanceTimersByTime(120_000);
    expect(settled).toHaveLength(4);
  });

  it("cancelled first, or cancelled while waiting out a busy spell: nothing", () => {
    vi.useFakeTimers();
    const { log, settled } = logger();
    settleWhileRunning(log, () => false, 1000)();
    let busy = true;
    const cancel = settleWhileRunning(log, () => busy, 1000);
    vi.advanceTimersByTime(1500);
    cancel();
    busy = false;
    vi.advanceTimersByTime(10 * 60_000);
    expect(settled).toEqual([]);
  });

  it("cancelled between two collections: no more", () => {
    vi.useFakeTimers();
    const { log, settled } = logger();
    const cancel = settleWhileRunning(log, () => false, 1000, 5000);
    vi.advanceTimersByTime(1000);
    expect(settled).toHaveLength(1);
    cancel();
    vi.advanceTimersByTime(60_000);
    expect(settled).toHaveLength(1);
  });

  it("the collection leaves no gc function behind in this context", () => {
    vi.useFakeTimers();
    settleWhileRunning(logger().log, () => false, 10)();
    const cancel = settleWhileRunning(logger().log, () => false, 10);
    vi.advanceTimersByTime(10);
    cancel();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
