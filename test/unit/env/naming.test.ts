import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../../../src/errors.ts";
import { isVarName, mapName, parseMap } from "../../../src/env/naming.ts";

describe("isVarName", () => {
  const posix = /^[A-Za-z_][A-Za-z0-9_]*$/;
  it.each(["A", "_", "a1", "DB_PASSWORD", "z_9"])("%j is a name", (n) => expect(isVarName(n)).toBe(true));
  it.each(["", "1A", "A-B", "A B", "@A", "[", "`", "{", "A/", "A:", "ü", "A\0"])("%j is not", (n) => expect(isVarName(n)).toBe(false));
  it("property: agrees with the POSIX pattern, on any string and on the characters around the ranges", () => {
    const edges = fc.constantFrom(..."/09:@AZ[_`az{ü\0-.".split(""));
    fc.assert(fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.string({ unit: edges, maxLength: 6 })), (n) => {
      expect(isVarName(n)).toBe(posix.test(n));
    }), { numRuns: 2000 });
  });
});

describe("mapName", () => {
  it.each([
    ["db-password", "DB_PASSWORD"],
    ["db.password", "DB_PASSWORD"],
    ["api_key", "API_KEY"],
    ["Mixed-Case.v2", "MIXED_CASE_V2"],
    ["_private", "_PRIVATE"],
  ])("%s → %s", (file, v) => {
    expect(mapName(file)).toBe(v);
  });

  it("applies --prefix and keep-case, and an explicit map wins over both", () => {
    const opts = { prefix: "APP_", keepCase: true, map: new Map([["db-password", "PGPASSWORD"]]) };
    expect(mapName("api-key", opts)).toBe("APP_api_key");
    expect(mapName("db-password", opts)).toBe("PGPASSWORD");
  });

  it.each(["1password", "has space", "tab\there", "ü-umlaut", "a:b", "", "a/b"])("refuses %j with an error naming it", (file) => {
    const r = mapName(file);
    expect(isLatchkeyError(r)).toBe(true);
    expect((r as Error).message).toContain("not a valid variable name");
    expect((r as { exitCode: number }).exitCode).toBe(78);
  });

  it("property: any file name gives a valid POSIX name or a LatchkeyError, never a crash", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 5 }), fc.boolean(), (name, prefix, keepCase) => {
      const r = mapName(name, { prefix, keepCase, map: new Map() });
      if (typeof r === "string") expect(isVarName(r)).toBe(true);
      else expect(isLatchkeyError(r)).toBe(true);
    }), { numRuns: 1000 });
  });

  it("property: names made of [A-Za-z0-9_.-] starting with a letter always map, upper-cased", () => {
    const name = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.-]{0,30}$/);
    fc.assert(fc.property(name, (n) => {
      const r = mapName(n);
      expect(r).toBe(n.toUpperCase().replace(/[-.]/g, "_"));
    }));
  });

  it("property: mapping is idempotent on its own output", () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/), (n) => {
      const once = mapName(n) as string;
      expect(mapName(once)).toBe(once);
    }));
  });
});

describe("parseMap", () => {
  it("parses FILE=VAR pairs and rejects bad ones with the flag name", () => {
    expect(parseMap(["db-password=PGPASSWORD", "a.b=X"], "--map")).toEqual(new Map([["db-password", "PGPASSWORD"], ["a.b", "X"]]));
    expect(() => parseMap(["nope"], "--map")).toThrow(/--map: invalid value 'nope': expected FILE=VAR/);
    expect(() => parseMap(["a=1X"], "--map")).toThrow(/'1X' is not a valid variable name/);
    expect(() => parseMap(["a=X", "a=Y"], "--map")).toThrow(/mapped twice/);
  });
});
