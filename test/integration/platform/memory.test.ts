/**
 * The built binary hands back its start's garbage once it idles (src/platform/memory.ts): one
 * last-resort collection 2 s after the app started, logged at debug level with V8's heap
 * before and after. The figure itself (anonymous memory, idle, no provider) is a benchmark's:
 * bench/run providers-soak.
 */
import { describe, expect, it } from "vitest";
import { latchkey, latchkeyPid1 } from "../../helpers/run.ts";

const SETTLED = "memory settled";

function settledLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === SETTLED);
}

describe("memory after the start", () => {
  it("an app that runs on: one collection 2 s after it started, and V8's heap is smaller after it", async () => {
    for (const run of [latchkey, latchkeyPid1]) {
      const r = await run(["--log-level", "debug", "--log-format", "json", "--", "sleep", "3"], { env: { PATH: "/usr/bin:/bin" } });
      expect(r.code).toBe(0);
      const lines = settledLines(r.stderr);
      expect(lines).toHaveLength(1);
      const s = lines[0] as { usedMB: number; usedAfterMB: number; heapMB: number; heapAfterMB: number; ms: number };
      expect(s.usedAfterMB).toBeLessThan(s.usedMB);
      expect(s.heapAfterMB).toBeLessThan(s.heapMB);
    }
  });

  it("an app that is gone before then: no collection (the timer is cancelled, and never held latchkey open)", async () => {
    const r = await latchkey(["--log-level", "debug", "--log-format", "json", "--", "sleep", "0.2"], { env: { PATH: "/usr/bin:/bin" } });
    expect(r.code).toBe(0);
    expect(settledLines(r.stderr)).toEqual([]);
  });
});
