/** Failure classification: what the report says, and whether waiting can help. */
import { describe, expect, it } from "vitest";
import { classifyError, isDnsCode } from "../../../src/health/outcome.ts";

const err = (code: string, message = `boom ${code}`) => Object.assign(new Error(message), { code });

describe("classifyError", () => {
  it.each(["ENOTFOUND", "EAI_AGAIN"])("DNS %s is retried within the deadline (a service name may resolve later)", (code) => {
    const a = classifyError(err(code, `getaddrinfo ${code} db`), "db");
    expect(a).toMatchObject({ ok: false, reason: "dns", retryable: true });
    expect(a.detail).toMatch(new RegExp(`^DNS: name db .*\\(${code}\\)$`));
    expect(isDnsCode(code)).toBe(true);
  });

  it.each([
    ["ECONNREFUSED", "refused", true],
    ["ECONNRESET", "reset", true],
    ["ETIMEDOUT", "timeout", true],
    ["EHOSTUNREACH", "unreachable", true],
    ["ENOENT", "missing", true],
    ["EACCES", "denied", true],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "tls", false],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "tls", false],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "tls", false],
    ["EWHATEVER", "error", true],
  ] as const)("%s → %s (retryable: %s)", (code, reason, retryable) => {
    expect(classifyError(err(code))).toMatchObject({ ok: false, reason, retryable });
  });

  it("looks inside happy-eyeballs AggregateErrors (localhost → ::1 and 127.0.0.1 both refused)", () => {
    const agg = Object.assign(new AggregateError([err("ECONNREFUSED"), err("ECONNREFUSED")], "x"), { code: "ECONNREFUSED" });
    expect(classifyError(agg)).toMatchObject({ reason: "refused", detail: "connection refused" });
    const noCode = new AggregateError([err("ENETUNREACH"), err("ECONNREFUSED")], "x");
    expect(classifyError(noCode).reason).toBe("unreachable");
  });

  it("survives things that are not errors", () => {
    expect(classifyError("weird")).toMatchObject({ ok: false, reason: "error" });
    expect(classifyError(undefined)).toMatchObject({ ok: false, reason: "error" });
  });
});
