import { describe, expect, it } from "vitest";
import { parseDuration, Settings } from "../../../src/config/settings.ts";

const make = (over: Partial<ConstructorParameters<typeof Settings>[0]> = {}) =>
  new Settings({ flags: {}, env: {}, ...over });

describe("Settings precedence: default ← file ← env ← flag", () => {
  it("uses the default when nothing else is given", () => {
    const s = make();
    expect(s.string("grace")).toBe("5s");
    expect(s.origin("grace")).toEqual({ kind: "default", label: "default" });
  });

  it("file beats default, env beats file, flag beats env", () => {
    const file = { path: "/etc/latchkey.yaml", values: { grace: "1s" } };
    expect(make({ file }).string("grace")).toBe("1s");
    expect(make({ file }).origin("grace")?.label).toBe("/etc/latchkey.yaml: grace");
    expect(make({ file, env: { LATCHKEY_GRACE: "2s" } }).string("grace")).toBe("2s");
    const all = make({ file, env: { LATCHKEY_GRACE: "2s" }, flags: { grace: "3s" } });
    expect(all.string("grace")).toBe("3s");
    expect(all.origin("grace")).toEqual({ kind: "flag", label: "--grace" });
  });

  it("an empty env var counts as unset", () => {
    expect(make({ env: { LATCHKEY_GRACE: "" } }).string("grace")).toBe("5s");
  });

  it("config keys are camelCase of the flag", () => {
    expect(make({ file: { path: "f", values: { stopTimeout: "7s" } } }).duration("stop-timeout")).toBe(7000);
  });

  it("a list from the env is comma-separated; repeated flags stay a list", () => {
    expect(make({ env: { LATCHKEY_REWRITE: "TERM:QUIT, HUP:USR1 ,," } }).list("rewrite")).toEqual(["TERM:QUIT", "HUP:USR1"]);
    expect(make({ flags: { rewrite: ["A:B", "C:D"] } }).list("rewrite")).toEqual(["A:B", "C:D"]);
    expect(make().list("rewrite")).toEqual([]);
  });
});

describe("Settings.boolean", () => {
  it.each(["1", "true", "TRUE", "yes", "on", " On "])("%j is true", (v) => {
    expect(make({ env: { LATCHKEY_SIGNAL_GROUP: v } }).boolean("signal-group")).toBe(true);
  });
  it.each(["0", "false", "no", "off", "OFF"])("%j is false", (v) => {
    expect(make({ env: { LATCHKEY_SIGNAL_GROUP: v } }).boolean("signal-group")).toBe(false);
  });
  it("unset is false; a flag is true", () => {
    expect(make().boolean("signal-group")).toBe(false);
    expect(make({ flags: { "signal-group": true } }).boolean("signal-group")).toBe(true);
  });
  it("anything else is a config error naming the variable (exit 78)", () => {
    const s = make({ env: { LATCHKEY_SIGNAL_GROUP: "maybe" } });
    expect(() => s.boolean("signal-group")).toThrow(/^LATCHKEY_SIGNAL_GROUP: invalid value 'maybe': expected one of/);
    try {
      s.boolean("signal-group");
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(78);
    }
  });
});

describe("durations", () => {
  it.each([
    ["500ms", 500], ["5s", 5000], ["5", 5000], ["0", 0], ["1.5s", 1500], ["2m", 120_000], ["1h", 3_600_000],
    [" 3s ", 3000], ["0.25", 250], ["5 ms", 5], ["\t2 m\n", 120_000], ["007s", 7000],
  ])("%j → %i ms", (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it.each(["", "soon", "-1s", "5x", "1e3", "s", "1 h 2 m", "9999999h", "Infinity", "5MS", ".5s", "1.s", "1..5s", "1.5.5s", "+1s", "0x10", "5 s s", "١s"])("%j is rejected", (raw) => {
    expect(parseDuration(raw)).toBeNull();
  });

  it("a bad flag value is a usage error (64), a bad env value a config error (78)", () => {
    expect(() => make({ flags: { grace: "x" } }).duration("grace")).toThrow(/^--grace: invalid value 'x'/);
    try {
      make({ flags: { grace: "x" } }).duration("grace");
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(64);
    }
    try {
      make({ env: { LATCHKEY_GRACE: "x" } }).duration("grace");
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(78);
    }
  });
});

describe("Settings.oneOf", () => {
  it("accepts a listed value and names the choices otherwise", () => {
    expect(make({ flags: { "log-level": "debug" } }).oneOf("log-level", ["debug", "warn"])).toBe("debug");
    expect(() => make({ flags: { "log-level": "loud" } }).oneOf("log-level", ["debug", "warn"]))
      .toThrow("--log-level: invalid value 'loud': expected one of: debug, warn");
  });
});

describe("Settings.envNames", () => {
  it("lists the LATCHKEY_* variables of every flag that has one", () => {
    const names = Settings.envNames();
    expect(names).toContain("LATCHKEY_USER");
    expect(names).toContain("LATCHKEY_GRACE");
    expect(names.every((n) => n.startsWith("LATCHKEY_"))).toBe(true);
  });
});
