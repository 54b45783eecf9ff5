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

describe("negative values", () => {
  it.each([
    [["--stop-timeout", "-1s", "--", "x"], "-1s"],
    [["--stop-timeout=-1s", "--", "x"], "-1s"],
    [["--user", "-1", "--", "x"], "-1"],
    [["-u", "-5", "--", "x"], "-5"],
  ])("%j reaches the option's own check instead of 'argument is ambiguous'", (argv, value) => {
    const p = parseCommandLine(argv);
    const name = argv[0]!.startsWith("-u") ? "user" : argv[0]!.startsWith("--stop") ? "stop-timeout" : "user";
    expect(p.flags[name]).toBe(value);
  });

  it("a flag-like value that is not a number is still refused (a forgotten value)", () => {
    expect(() => parseCommandLine(["--stop-timeout", "--exec", "--", "x"])).toThrow(/followed by another option/);
  });
});

describe("values that start with a dash but no letter", () => {
  it.each([["-"], ["- "], ["-é"], ["-.5s"]])("--log-level %j is handed to the option's own check", (v) => {
    expect(parseCommandLine(["--log-level", v, "--", "x"]).flags["log-level"]).toBe(v);
  });
});

describe("an option followed by another option", () => {
  it.each([[["--grace", "-A", "--", "x"], /option '--grace' is followed by another option instead of its value; .* --grace=VALUE/], [["-u", "-A", "--", "x"], /option '-u' .* -uVALUE/]])("%j: one line saying how to write a dash value", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});
