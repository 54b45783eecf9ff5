import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../../src/cli/parse.ts";

describe("parseCommandLine", () => {
  it("splits latchkey's options from the command at the first --", () => {
    const p = parseCommandLine(["--signal-group", "--", "app", "--signal-group", "--"]);
    expect(p.subcommand).toBe("run");
    expect(p.flags["signal-group"]).toBe(true);
    expect(p.command).toEqual(["app", "--signal-group", "--"]);
  });

  it.each([
    [["--bogus", "--", "x"], /unknown option '--bogus'/],
    [["app"], /missing '--'|unexpected argument 'app'/],
    [[], /missing '--'/],
    [["--"], /no command after '--'/],
    [["--user"], /needs a value|argument missing/],
  ])("rejects %j with a usage error", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
    try {
      parseCommandLine(argv);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(64);
    }
  });
});
