import { describe, expect, it } from "vitest";
import { formatMs } from "../../../src/health/probe.ts";

describe("formatMs (report durations)", () => {
  it.each([[0, "0 ms"], [999.4, "999 ms"], [1500, "1.5s"], [59_940, "59.9s"], [60_000, "1m0s"], [119_900, "2m0s"], [125_000, "2m5s"]])("%d → %s", (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});
