import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../../../src/errors.ts";
import { parseReference, registerScheme } from "../../../src/sources/source.ts";
import { registerBuiltinSchemes } from "../../../src/sources/schemes.ts";

registerBuiltinSchemes();
registerScheme("test-sm", () => ({ scheme: "test-sm", fetch: async () => [] }));

describe("parseReference", () => {
  it("parses file:// and any registered scheme with params and #key", () => {
    expect(parseReference("file:///run/secrets/db_url", "DB_URL")).toEqual({ raw: "file:///run/secrets/db_url", scheme: "file", locator: "/run/secrets/db_url", params: {} });
    expect(parseReference("test-sm://prod/db?version-stage=AWSPREVIOUS#password", "X")).toMatchObject({
      scheme: "test-sm", locator: "prod/db", params: { "version-stage": "AWSPREVIOUS" }, key: "password",
    });
    expect(parseReference("plain value", "X")).toBeNull();
  });

  it("rejects unknown schemes and malformed references with CONFIG (78) naming the variable", () => {
    for (const [raw, msg] of [["vualt://x", /X: unknown reference scheme 'vualt:\/\/'/], ["file://", /nothing after/], ["file:///a#", /empty key/], ["file:///a%zz", /percent/]] as const) {
      try {
        parseReference(raw, "X");
        expect.unreachable();
      } catch (e) {
        expect((e as Error).message).toMatch(msg);
        expect((e as { exitCode: number }).exitCode).toBe(78);
      }
    }
  });

  it("property: no input crashes the parser (null, a Reference, or a LatchkeyError)", () => {
    const scheme = fc.constantFrom("file", "test-sm", "nope", "x+y", "F");
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.tuple(scheme, fc.string({ unit: "binary", maxLength: 40 })).map(([s, r]) => `${s}://${r}`),
      fc.tuple(scheme, fc.webPath(), fc.webQueryParameters(), fc.webFragments()).map(([s, p, q, f]) => `${s}://${p}?${q}#${f}`),
    );
    fc.assert(fc.property(text, (raw) => {
      try {
        const r = parseReference(raw, "VAR");
        if (r !== null) {
          expect(r.raw).toBe(raw);
          expect(r.locator.length).toBeGreaterThan(0);
        }
      } catch (e) {
        expect(isLatchkeyError(e)).toBe(true);
      }
    }), { numRuns: 1000 });
  });
});
