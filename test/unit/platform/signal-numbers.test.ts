import { constants } from "node:os";
import { describe, expect, it } from "vitest";
import { SIGNALS } from "../../../src/platform/signal-numbers.ts";

describe("the written-out signal table", () => {
  it("is node:os's, names, numbers and order", () => {
    expect(Object.entries(SIGNALS)).toEqual(Object.entries(constants.signals));
  });
});
