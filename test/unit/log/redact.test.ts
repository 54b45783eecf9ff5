import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Redactor } from "../../../src/log/redact.ts";

describe("Redactor", () => {
  it("masks a value, its base64 form, its JSON-escaped form and each long line of a multi-line value", () => {
    const r = new Redactor();
    const key = "-----BEGIN KEY-----\nAAAAbbbbCCCCdddd\n-----END KEY-----";
    r.add("s3cr3t-pa55");
    r.add(key);
    const b64 = Buffer.from("s3cr3t-pa55").toString("base64");
    const out = r.redact(`a s3cr3t-pa55 b ${b64} c ${JSON.stringify(key)} d AAAAbbbbCCCCdddd`);
    expect(out).not.toContain("s3cr3t-pa55");
    expect(out).not.toContain(b64);
    expect(out).not.toContain("AAAAbbbbCCCCdddd");
    expect(out.match(/\[redacted\]/g)?.length).toBe(4);
  });

  it("a value first seen as a line of another still gets all its own forms when added itself", () => {
    const r = new Redactor();
    r.add("first-line-xxxx\nsecond-line-yyyy");
    r.add("second-line-yyyy");
    const b64 = Buffer.from("second-line-yyyy").toString("base64");
    expect(r.redact(`x ${b64} y`)).toBe("x [redacted] y");
  });

  it("masks the longer of two values that share a start, whole", () => {
    const r = new Redactor();
    r.add("abcd-short");
    r.add("abcd-short-and-longer");
    expect(r.redact("[abcd-short-and-longer] [abcd-short]")).toBe("[[redacted]] [[redacted]]");
  });

  it("leaves text without secrets untouched, and ignores values shorter than 4", () => {
    const r = new Redactor();
    r.add("on");
    r.add("password-1");
    expect(r.redact("turn it on")).toBe("turn it on");
    expect(r.redact("")).toBe("");
  });

  it("no registered value survives redaction of a text made of registered values", () => {
    const value = fc.stringMatching(/^[abcd]{4,12}$/);
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), (values) => {
        const r = new Redactor();
        for (const v of values) r.add(v);
        for (const v of values) expect(r.redact(v)).toBe("[redacted]");
        // "|" is in no value, so no match can span two of them: every one must be masked.
        const out = r.redact(values.join("|"));
        expect(out).toBe(values.map(() => "[redacted]").join("|"));
      }),
    );
  });
});
