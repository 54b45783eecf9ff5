import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkReference, globToRegExp, parsePolicy } from "../../../src/policy/policy.ts";
import { parseReference } from "../../../src/sources/source.ts";
import { isLatchkeyError } from "../../../src/errors.ts";

const ref = (s: string) => parseReference(s, "T", { checkScheme: false })!;
const refused = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    expect(isLatchkeyError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected a refusal");
};

describe("glob patterns", () => {
  it("* stays within a segment, ** crosses segments, ? is one character, the rest is literal", () => {
    expect(globToRegExp("secret/data/payments/*").test("secret/data/payments/db")).toBe(true);
    expect(globToRegExp("secret/data/payments/*").test("secret/data/payments/a/b")).toBe(false);
    expect(globToRegExp("secret/data/payments/**").test("secret/data/payments/a/b")).toBe(true);
    expect(globToRegExp("prod/db-?").test("prod/db-1")).toBe(true);
    expect(globToRegExp("prod/db.x").test("prod/dbxx")).toBe(false);
    expect(globToRegExp("a+b(c)").test("a+b(c)")).toBe(true);
  });

  it("a pattern without wildcards matches only itself (property)", () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }).filter((s) => !/[*?]/.test(s)), fc.string(), (p, other) => {
      const re = globToRegExp(p);
      expect(re.test(p)).toBe(true);
      if (other !== p) expect(re.test(other)).toBe(false);
    }));
  });
});

describe("policy", () => {
  const p = parsePolicy({ allow: { vault: ["secret/data/payments/*"], "aws-sm": "prod/payments/**" }, deny: { vault: ["secret/data/payments/admin"] } }, "/etc/policy.yaml");

  it("allows what matches, refuses the rest naming the file and patterns", () => {
    checkReference([p], ref("vault://secret/data/payments/db#k"));
    checkReference([p], ref("aws-sm://prod/payments/a/b"));
    const m = refused(() => checkReference([p], ref("vault://secret/data/other#k")));
    expect(m).toContain("/etc/policy.yaml");
    expect(m).toContain("'secret/data/payments/*'");
  });

  it("deny wins over allow and names its rule", () => {
    const m = refused(() => checkReference([p], ref("vault://secret/data/payments/admin")));
    expect(m).toContain("deny.vault[0]");
  });

  it("unlisted schemes are denied by default, allowed with unlisted: allow", () => {
    expect(refused(() => checkReference([p], ref("file:///run/secrets/x")))).toContain("no 'file' references are allowed");
    checkReference([parsePolicy({ unlisted: "allow", allow: { vault: ["x"] } }, "p")], ref("file:///run/secrets/x"));
  });

  it("every policy must allow (config file and --policy file)", () => {
    const wide = parsePolicy({ allow: { vault: ["**"] } }, "app.yaml");
    refused(() => checkReference([wide, p], ref("vault://secret/data/other")));
  });

  it("any candidate name may match (Vault: path as written and API path)", () => {
    checkReference([p], ref("vault://secret/payments/db"), ["secret/payments/db", "secret/data/payments/db"]);
  });

  it("rejects malformed policies with the field at fault", () => {
    expect(refused(() => parsePolicy({ allow: ["x"] }, "f"))).toContain("policy.allow");
    expect(refused(() => parsePolicy({ alow: {} }, "f"))).toContain("policy.alow");
    expect(refused(() => parsePolicy({ unlisted: "maybe" }, "f"))).toContain("maybe");
    expect(refused(() => parsePolicy({ allow: { vault: [""] } }, "f"))).toContain("allow.vault[0]");
    expect(refused(() => parsePolicy({ allow: { "Not A Scheme": ["x"] } }, "f"))).toContain("not a reference scheme");
  });
});
