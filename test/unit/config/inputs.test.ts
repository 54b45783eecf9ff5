import { describe, expect, it } from "vitest";
import { registerConcerns } from "../../../src/register.ts";
import { loadRunConfig } from "../../../src/config/run-config.ts";
import { misspeltEnvWarnings, Settings } from "../../../src/config/settings.ts";
import type { ParsedArgs } from "../../../src/cli/parse.ts";

registerConcerns();
const args = (flags: ParsedArgs["flags"] = {}): ParsedArgs => ({ subcommand: "run", flags, operands: [], command: ["x"] });
function codeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return (e as { exitCode?: number }).exitCode;
  }
  return undefined;
}

describe("durations", () => {
  it("a negative duration says so, naming where it was set", () => {
    const s = new Settings({ flags: { "stop-timeout": "-1s" }, env: {} });
    expect(() => s.duration("stop-timeout")).toThrow(/--stop-timeout: invalid value '-1s': a duration cannot be negative/);
    const e = new Settings({ flags: {}, env: { LATCHKEY_GRACE: "-5" } });
    expect(() => e.duration("grace")).toThrow(/LATCHKEY_GRACE: .*negative/);
  });
});

describe("integer ranges (FlagDef.range) are checked whether or not the provider runs", () => {
  it.each([
    [{ "vault-concurrency": "0" }, {}, 64],
    [{ "vault-concurrency": "1e3" }, {}, 64],
    [{ "aws-max-attempts": "51" }, {}, 64],
    [{}, { LATCHKEY_AWS_MAX_ATTEMPTS: "-1" }, 78],
    [{}, { LATCHKEY_VAULT_CONCURRENCY: "8.5" }, 78],
  ])("%j %j → %i", (flags, env, code) => {
    expect(codeOf(() => loadRunConfig(args(flags), env))).toBe(code);
  });
  it("values in range pass", () => {
    expect(() => loadRunConfig(args({ "vault-concurrency": "256", "aws-max-attempts": "1" }), {})).not.toThrow();
  });
});

describe("--user", () => {
  it.each([
    [{ user: "" }, {}, /--user: empty user/],
    [{ user: "  " }, {}, /--user: empty user/],
    [{}, { LATCHKEY_USER: "" }, /LATCHKEY_USER: empty user/],
  ])("%j %j is a usage error (64), never 'no switch'", (flags, env, message) => {
    expect(() => loadRunConfig(args(flags), env)).toThrow(message);
    expect(codeOf(() => loadRunConfig(args(flags), env))).toBe(64);
  });
  it("a flag wins over an empty LATCHKEY_USER", () => {
    expect(loadRunConfig(args({ user: "app" }), { LATCHKEY_USER: "" }).user).toBe("app");
  });
});

describe("misspelt LATCHKEY_* variables", () => {
  it("one warning per near miss, naming the closest known variable, never the value", () => {
    const w = misspeltEnvWarnings({ LATCHKEY_USR: "secret-ish", LATCHKEY_STOPTIMEOUT: "1s", LATCHKEY_USER: "app", PATH: "/bin" });
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/LATCHKEY_STOPTIMEOUT .*did you mean LATCHKEY_STOP_TIMEOUT\?/);
    expect(w[1]).toMatch(/LATCHKEY_USR .*did you mean LATCHKEY_USER\?/);
    expect(w.join("\n")).not.toContain("secret-ish");
  });
  it("names far from every setting (a wrapper's own LATCHKEY_BIN) are left alone", () => {
    expect(misspeltEnvWarnings({ LATCHKEY_BIN: "/x", LATCHKEY_TEST_FIXTURES: "/y", LATCHKEY_CODE_CACHE_CHECK: "1" })).toEqual([]);
  });
  it("an environment without LATCHKEY_* names, or with only the prefix's near misses in other case, says nothing", () => {
    expect(misspeltEnvWarnings({ PATH: "/bin", HOME: "/root", SSL_CERT_FILE: "/etc/ssl/cert.pem" })).toEqual([]);
    expect(misspeltEnvWarnings({ latchkey_usr: "x", XLATCHKEY_USR: "y" })).toEqual([]);
  });
});
