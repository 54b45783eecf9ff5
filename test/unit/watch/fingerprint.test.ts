import { describe, expect, it } from "vitest";
import { diffFingerprints, fingerprint, fingerprintAll, isEmptyDiff, touched } from "../../../src/watch/fingerprint.ts";

describe("fingerprints", () => {
  it("are SHA-256 of the value and never contain it", () => {
    const fp = fingerprint("hunter2-secret");
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).not.toContain("hunter2");
    expect(fingerprint(Buffer.from("hunter2-secret"))).toBe(fp);
    expect(fingerprint("hunter2-secreT")).not.toBe(fp);
  });

  it("compare per variable: only resolved content counts", () => {
    const a = fingerprintAll({ A: "1", B: "2", C: "3" });
    const same = fingerprintAll({ C: "3", B: "2", A: "1" });
    expect(isEmptyDiff(diffFingerprints(a, same))).toBe(true);
    const b = fingerprintAll({ A: "1", B: "two", D: "4" });
    const d = diffFingerprints(a, b);
    expect(d).toEqual({ changed: ["B"], added: ["D"], removed: ["C"] });
    expect(touched(d)).toEqual(["B", "C", "D"]);
  });
});
