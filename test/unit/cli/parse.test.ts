import { describe, expect, it } from "vitest";
import { parseCommandLine, parseOwn } from "../../../src/cli/parse.ts";
import { allFlags } from "../../../src/cli/flags.ts";
import { registerConcerns } from "../../../src/register.ts";

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

describe("the boolean-flags fast path (booleanFlagsOnly) gives parseArgs's answers", () => {
  registerConcerns(); // every concern's flags, as main() has them
  const booleans = allFlags().filter((f) => f.type === "boolean").map((f) => `--${f.name}`);
  // Words that must leave the fast path: values, short flags, negations, unknown flags, `=`.
  const others = ["--user", "nobody", "-u", "-h", "-V", "--exec=1", "--no-exec", "--bogus", "-", "--", "app", "--log-level=debug", "--pass-fd", "3", "--ex"];
  // A small seeded generator: the same thousands of cases on every run.
  let seed = 15;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const outcome = (f: () => Record<string, unknown>) => {
    try {
      const v = f();
      return { ok: { ...v }, proto: Object.getPrototypeOf(v) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };

  it("on 5,000 generated command lines, boolean flags only and mixed", () => {
    expect(booleans).toContain("--exec");
    for (let i = 0; i < 5000; i++) {
      const own = Array.from({ length: 1 + rand(4) }, () => (i % 2 === 0 || rand(3) > 0 ? booleans[rand(booleans.length)]! : others[rand(others.length)]!));
      if (own.includes("--")) continue; // the app's part starts there
      const fast = outcome(() => parseCommandLine([...own, "--", "x"]).flags);
      const full = outcome(() => parseOwn(own, false).values);
      if ("ok" in full && "ok" in fast) {
        expect(fast, own.join(" ")).toEqual(full);
        expect(fast.proto, own.join(" ")).toBe(full.proto);
      } else if ("error" in full) {
        expect(fast.error, own.join(" ")).toBeDefined();
      }
    }
  });
});
