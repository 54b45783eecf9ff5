/** The canonical form a policy matches (issue 12, finding 3): no dot or empty segments, ARNs by name. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkCanonical, checkReference, parsePolicy, pathProblem, policyNames } from "../../../src/policy/policy.ts";
import { parseReference } from "../../../src/sources/source.ts";

const ref = (s: string) => parseReference(s, "T", { checkScheme: false })!;

describe("canonical reference paths", () => {
  it.each([
    ["vault://secret/data/x/../admin", /'\.\.'/],
    ["vault://secret/data/./admin", /'\.'/],
    ["vault://secret/data/x/%2e%2e/admin", /'\.\.'/],
    ["vault://secret/data/x/%2E./admin", /'\.\.'/],
    ["vault://secret//admin", /empty segment/],
    ["file:///run/secrets/../x", /'\.\.'/],
    ["file:///run//secrets/x", /empty segment/],
    ["file://./a/./b", /'\.'/],
    ["file:///run/secrets/x/", /empty segment/],
    ["aws-sm://prod/../admin", /'\.\.'/],
  ])("%s is refused", (raw, why) => {
    expect(() => checkCanonical(ref(raw), "X")).toThrow(why);
  });

  it.each(["vault://secret/data/app", "vault:///secret/data/app/", "file:///run/secrets/x", "file://./secrets/x", "file://secrets/x", "aws-sm://prod/db", "aws-sm://arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "vault://secret/data/a..b/.c"])("%s passes", (raw) => {
    expect(() => checkCanonical(ref(raw), "X")).not.toThrow();
  });

  it("property: a path that passes has no segment that URL or kernel normalisation would change", () => {
    fc.assert(fc.property(fc.array(fc.constantFrom("a", ".", "..", "", "%2e", "%2e%2e", ".a", "b."), { minLength: 1, maxLength: 6 }), (segs) => {
      const raw = `vault://secret/${segs.join("/")}/end`;
      let r;
      try {
        r = ref(raw);
      } catch {
        return;
      }
      if (pathProblem(r.locator.replace(/^\/+|\/+$/g, "")) === undefined) {
        expect(new URL(`http://h/v1/${r.locator}`).pathname).toBe(`/v1/${r.locator}`);
      }
    }));
  });
});

describe("AWS names and ARNs", () => {
  const policy = parsePolicy({ allow: { "aws-sm": ["**"] }, deny: { "aws-sm": ["prod/admin"] } }, "p.yaml");
  it.each([
    "aws-sm://prod/admin",
    "aws-sm://arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/admin-AbCdEf",
    "aws-sm://arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/admin",
    "aws-sm://arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/admin-x1y2z3",
  ])("a deny rule on the name refuses %s", (raw) => {
    expect(() => checkReference([policy], ref(raw))).toThrow(/refused by policy rule/);
  });
  it("names: the ARN's name with and without a suffix-like ending", () => {
    expect(policyNames(ref("aws-sm://arn:aws:secretsmanager:r:1:secret:prod/db-AbCdEf"))).toEqual(["prod/db-AbCdEf", "prod/db"]);
    expect(policyNames(ref("aws-sm://arn:aws:secretsmanager:r:1:secret:prod/db"))).toEqual(["prod/db"]);
    expect(policyNames(ref("aws-sm://prod/db"))).toEqual(["prod/db"]);
    expect(checkReference([policy], ref("aws-sm://arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"))).toBeUndefined();
  });
});

describe("allow and deny candidates (files: allow on the real path only)", () => {
  const policy = parsePolicy({ allow: { file: ["/run/secrets/*"] }, deny: { file: ["/run/secrets/admin"] } }, "p.yaml");
  it("a deny rule matching the written path refuses even when the real path differs", () => {
    expect(() => checkReference([policy], ref("file:///run/secrets/admin"), ["/data/x", "/run/secrets/admin"], "X", ["/data/x"])).toThrow(/refused by policy rule/);
  });
  it("the allow rule must match the real path, not the written one", () => {
    expect(() => checkReference([policy], ref("file:///run/secrets/link"), ["/etc/shadow", "/run/secrets/link"], "X", ["/etc/shadow"])).toThrow(/'\/etc\/shadow' matches none/);
  });
});
