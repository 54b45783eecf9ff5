/**
 * No input crashes latchkey: random env values (reference-like or not) and random secret file
 * names through the built binary's `check` give a documented exit code, never INTERNAL (70).
 */
import fc from "fast-check";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { cleanEnv, workspace, writeFiles } from "./fixtures.ts";

const ws = workspace("fuzz");
const DOCUMENTED = [0, 64, 65, 66, 77, 78];
let n = 0;

describe("fuzzing the built binary", () => {
  it("random env values and file names: a documented exit code and one error line, never a crash", async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 30 }).filter((s) => !s.includes("\0")),
      fc.tuple(fc.constantFrom("file", "vualt", "http", "x+y", "aws-sm", "vault"), fc.string({ maxLength: 20 }).filter((s) => !s.includes("\0")))
        .map(([s, r]) => `${s}://${r}`),
    );
    const fileName = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\0/]/.test(s) && s !== "." && s !== "..");
    await fc.assert(fc.asyncProperty(value, fileName, fc.uint8Array({ maxLength: 40 }), async (v, name, content) => {
      const dir = ws.path(`d${n++}`);
      writeFiles(dir, {});
      writeFileSync(join(dir, name), content);
      // HOME: a ~/.vault-token on the machine running the suite made vault:// values retry against Vault
      const r = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none"], { env: cleanEnv({ FUZZ: v, HOME: ws.path("home") }) });
      expect(DOCUMENTED, `exit ${r.code}: ${r.stderr}`).toContain(r.code);
      expect(r.stderr).not.toContain("internal error");
      if (r.code !== 0) expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }), { numRuns: 25 });
  });
});
