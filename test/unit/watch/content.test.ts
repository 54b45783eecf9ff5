import { describe, expect, it } from "vitest";
import { contentOf, diffContent, isEmptyDiff, touched } from "../../../src/watch/content.ts";

describe("content compare", () => {
  it("per variable: only resolved values count, not their order", () => {
    const a = contentOf({ A: "1", B: "2", C: "3" });
    const same = contentOf({ C: "3", B: "2", A: "1" });
    expect(isEmptyDiff(diffContent(a, same))).toBe(true);
    const b = contentOf({ A: "1", B: "two", D: "4" });
    const d = diffContent(a, b);
    expect(d).toEqual({ changed: ["B"], added: ["D"], removed: ["C"] });
    expect(touched(d)).toEqual(["B", "C", "D"]);
  });

  it("an empty value is a value: set to empty is a change, not a removal", () => {
    const d = diffContent(contentOf({ A: "x" }), contentOf({ A: "" }));
    expect(d).toEqual({ changed: ["A"], added: [], removed: [] });
  });
});
