/** Which policies are in force: the platform file cannot be switched off from the environment. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { activePolicies, resetPolicies } from "../../../src/policy/active.ts";
import { checkReference } from "../../../src/policy/policy.ts";
import { Settings } from "../../../src/config/settings.ts";
import { registerConcerns } from "../../../src/register.ts";
import { parseReference } from "../../../src/sources/source.ts";

registerConcerns();
const dir = mkdtempSync(join(tmpdir(), "latchkey-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const platform = join(dir, "platform.yaml");
writeFileSync(platform, 'allow:\n  vault: ["secret/data/payments/*"]\n');
const extra = join(dir, "extra.yaml");
writeFileSync(extra, "unlisted: allow\n");
const settings = (env: Record<string, string>) => new Settings({ flags: {}, env });
const ref = (s: string) => parseReference(s, "T", { checkScheme: false })!;

describe("active policies", () => {
  beforeEach(() => resetPolicies());

  it("the platform file applies with no flag, env var or config at all", () => {
    const p = activePolicies(settings({}), platform);
    expect(p.map((x) => x.source)).toEqual([platform]);
  });

  it("LATCHKEY_POLICY empty, or naming an allow-all file, does not lift the platform file", () => {
    for (const env of [{ LATCHKEY_POLICY: "" }, { LATCHKEY_POLICY: extra }]) {
      resetPolicies();
      const p = activePolicies(settings(env), platform);
      expect(p.map((x) => x.source)).toContain(platform);
      // aws-sm is not in the platform's allow-list: refused whatever the added file says
      expect(() => checkAll(p, "aws-sm://prod/db")).toThrow(/refused by policy .*platform\.yaml/);
    }
  });

  it("no platform file: only what is configured", () => {
    expect(activePolicies(settings({}), join(dir, "absent.yaml"))).toEqual([]);
  });
});

function checkAll(p: ReturnType<typeof activePolicies>, raw: string): void {
  checkReference(p, ref(raw));
}
