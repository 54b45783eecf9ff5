import { describe, expect, it } from "vitest";
import { registerConcerns } from "../../../src/register.ts";
import { assertExecFits } from "../../../src/env/exec-limits.ts";
import { findReferences, looksLikeReference } from "../../../src/env/references.ts";
import { secretsOptions } from "../../../src/env/options.ts";
import { Settings } from "../../../src/config/settings.ts";

registerConcerns();
const opts = { passSchemes: new Set<string>(), sources: new Map<string, string>() };

describe("reference typos: case and blanks", () => {
  it.each(["Vault://a/b#k", "FILE:///x", " vault://a/b", "file:///x ", "\tfile:///x", "aws-sm://x\n", "AWS-SM://x"])("%j is an error naming the variable, not the value", (v) => {
    let message = "";
    try {
      findReferences({ PW: v }, new Set(), opts);
    } catch (e) {
      message = (e as Error).message;
      expect((e as { exitCode: number }).exitCode).toBe(78);
    }
    expect(message).toMatch(/^PW: /);
    expect(message).not.toContain(v.trim().slice(v.trim().indexOf("://")));
  });
  it.each(["HTTPS://example.com", " postgres://db", "redis://x ", "a value with vault:// inside", "Foo"])("%j stays a plain value", (v) => {
    expect(findReferences({ X: v }, new Set(), opts)).toEqual([]);
  });
  it("an unknown scheme in upper case is an error like the lower-case one", () => {
    expect(() => findReferences({ X: "Vualt://a" }, new Set(), opts)).toThrow(/X: unknown reference scheme/);
  });
  it("looksLikeReference is the loose reading", () => {
    expect(looksLikeReference(" Vault://x")).toBe(true);
    expect(looksLikeReference("http://x")).toBe(false);
  });
});

describe("exec limits", () => {
  it("a variable over 128 KiB is named", () => {
    expect(() => assertExecFits(["app"], { BIG: "x".repeat(128 * 1024) })).toThrow(/variable BIG is 129 KiB/);
  });
  it("an argument over 128 KiB is refused", () => {
    expect(() => assertExecFits(["app", "x".repeat(128 * 1024)], {})).toThrow(/argument 1 of COMMAND/);
  });
  it("the total against a quarter of the stack limit, at least 128 KiB, at most 6 MiB", () => {
    const env: Record<string, string> = {};
    for (let i = 0; i < 30; i++) env[`V${i}`] = "y".repeat(100 * 1024);
    expect(() => assertExecFits(["app"], env, 8 * 1024 * 1024)).toThrow(/too large .*limit of 2048 KiB .*ulimit -s = 8192 KiB/);
    expect(() => assertExecFits(["app"], env, 64 * 1024 * 1024)).not.toThrow();
    expect(() => assertExecFits(["app"], env, Infinity)).not.toThrow();
    const big: Record<string, string> = {};
    for (let i = 0; i < 70; i++) big[`V${i}`] = "y".repeat(100 * 1024);
    expect(() => assertExecFits(["app"], big, Infinity)).toThrow(/limit of 6144 KiB/);
    expect(() => assertExecFits(["app"], { A: "y".repeat(100 * 1024) }, 4096)).not.toThrow(); // ARG_MAX floor
  });
});

describe("secrets options", () => {
  it("--max-size is capped at 64MiB", () => {
    expect(() => secretsOptions(new Settings({ flags: { "max-size": "9999999MiB" }, env: {} }))).toThrow(/--max-size: .*at most 64MiB/);
    expect(secretsOptions(new Settings({ flags: { "max-size": "64MiB" }, env: {} })).maxSize).toBe(64 * 1024 * 1024);
  });
  it("an empty --ssh-dir is refused", () => {
    expect(() => secretsOptions(new Settings({ flags: { "ssh-dir": "" }, env: {} }))).toThrow(/--ssh-dir: /);
  });
  it("--dotenv-references is off unless asked for", () => {
    expect(secretsOptions(new Settings({ flags: {}, env: {} })).dotenvReferences).toBe(false);
    expect(secretsOptions(new Settings({ flags: {}, env: { LATCHKEY_DOTENV_REFERENCES: "1" } })).dotenvReferences).toBe(true);
  });
});
