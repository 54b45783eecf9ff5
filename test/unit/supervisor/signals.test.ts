import { describe, expect, it } from "vitest";
import { applyRewrites, defaultTable, FORWARDED, parseSignal, signalName, signalNumber, STOPPING } from "../../../src/supervisor/signals.ts";

const flag = { kind: "flag" as const, label: "--rewrite" };
const env = { kind: "env" as const, label: "LATCHKEY_REWRITE" };

describe("parseSignal", () => {
  it.each([
    ["TERM", "SIGTERM"], ["SIGTERM", "SIGTERM"], ["sigterm", "SIGTERM"], ["term", "SIGTERM"], [" HUP ", "SIGHUP"],
    ["15", "SIGTERM"], ["10", "SIGUSR1"], ["28", "SIGWINCH"],
  ])("%j → %s", (raw, name) => {
    expect(parseSignal(raw)).toBe(name);
  });

  it.each(["", "FOO", "SIG", "99", "-1", "1.5", "TERM "+"x"])("%j → null", (raw) => {
    expect(parseSignal(raw)).toBeNull();
  });
});

describe("the signal table", () => {
  it("forwards every listed signal as itself and consumes SIGCHLD", () => {
    const t = defaultTable();
    for (const s of FORWARDED) expect(t.get(s)).toEqual({ kind: "forward", to: s });
    expect(t.get("SIGCHLD")).toEqual({ kind: "consume" });
  });

  it("leaves out what cannot be caught or describes latchkey itself", () => {
    for (const s of ["SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGPIPE", "SIGTTIN", "SIGTTOU"]) {
      expect(FORWARDED).not.toContain(s);
    }
  });

  it("includes the job-control and terminal signals an interactive app needs", () => {
    for (const s of ["SIGCONT", "SIGTSTP", "SIGWINCH", "SIGHUP", "SIGINT"]) expect(FORWARDED).toContain(s);
  });

  it("SIGTERM, SIGINT and SIGQUIT start the stop timer", () => {
    expect([...STOPPING].sort()).toEqual(["SIGINT", "SIGQUIT", "SIGTERM"]);
  });

  it("numbers and names round-trip", () => {
    for (const s of FORWARDED) expect(signalName(signalNumber(s))).toBe(s);
  });
});

describe("applyRewrites", () => {
  it("rewrites FROM to TO, in any spelling", () => {
    const t = defaultTable();
    applyRewrites(t, ["TERM:QUIT", "sighup:10", "2:usr2"], flag);
    expect(t.get("SIGTERM")).toEqual({ kind: "forward", to: "SIGQUIT" });
    expect(t.get("SIGHUP")).toEqual({ kind: "forward", to: "SIGUSR1" });
    expect(t.get("SIGINT")).toEqual({ kind: "forward", to: "SIGUSR2" });
    expect(t.get("SIGQUIT")).toEqual({ kind: "forward", to: "SIGQUIT" });
  });

  it("TO = 0 or drop drops FROM", () => {
    const t = defaultTable();
    applyRewrites(t, ["USR1:0", "WINCH:drop"], flag);
    expect(t.get("SIGUSR1")).toEqual({ kind: "drop" });
    expect(t.get("SIGWINCH")).toEqual({ kind: "drop" });
  });

  it("a later rule for the same signal wins", () => {
    const t = defaultTable();
    applyRewrites(t, ["TERM:QUIT", "TERM:INT"], flag);
    expect(t.get("SIGTERM")).toEqual({ kind: "forward", to: "SIGINT" });
  });

  it("may rewrite to a signal latchkey does not forward itself (e.g. SIGKILL)", () => {
    const t = defaultTable();
    applyRewrites(t, ["TERM:KILL"], flag);
    expect(t.get("SIGTERM")).toEqual({ kind: "forward", to: "SIGKILL" });
  });

  it.each([
    ["TERM", /expected FROM:TO/],
    ["TERM:QUIT:HUP", /expected FROM:TO/],
    ["FOO:QUIT", /'FOO' is not a signal/],
    ["TERM:", /'' is not a signal/],
    [":TERM", /'' is not a signal/],
    ["KILL:TERM", /SIGKILL cannot be rewritten/],
    ["CHLD:TERM", /SIGCHLD cannot be rewritten/],
    ["TERM:999", /'999' is not a signal/],
  ])("rejects %j naming the rule and where it came from", (rule, message) => {
    expect(() => applyRewrites(defaultTable(), [rule], flag)).toThrow(message);
    expect(() => applyRewrites(defaultTable(), [rule], flag)).toThrow(`--rewrite: invalid value '${rule}'`);
    try {
      applyRewrites(defaultTable(), [rule], env);
    } catch (e) {
      expect((e as Error).message).toMatch(/^LATCHKEY_REWRITE: /);
      expect((e as { exitCode: number }).exitCode).toBe(78);
    }
  });
});
