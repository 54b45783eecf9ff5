import { describe, expect, it } from "vitest";
import { splitWords } from "../../../src/gate/split.ts";

describe("splitWords (--pre-start without a shell)", () => {
  it.each([
    ["./migrate up", ["./migrate", "up"]],
    ["  a   b  ", ["a", "b"]],
    [`sh -c 'echo "$X" | tr a b'`, ["sh", "-c", `echo "$X" | tr a b`]],
    [`say "a \\"quoted\\" word" x\\ y`, ["say", `a "quoted" word`, "x y"]],
    [`a '' b`, ["a", "", "b"]],
    [`pre'fix'"ed"`, ["prefixed"]],
    ["", []],
  ])("%j", (raw, words) => {
    expect(splitWords(raw)).toEqual(words);
  });

  it.each([["a 'b", "unterminated single quote"], ['a "b', "unterminated double quote"], ["a \\", "trailing backslash"]])("%j fails", (raw, error) => {
    expect(splitWords(raw)).toEqual({ error });
  });
});
