/**
 * `latchkey check --format json` passed its whole text through the redactor, so a numeric
 * secret (a PIN `1234`) masked a length of 1234 bytes: `"length": [redacted]` is not JSON,
 * and the masked number told the reader which numbers were secrets. Only strings are
 * redacted now; the report's own numbers never are (issue #12, findings 11 and 13: what
 * check writes out).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, tmp } from "../integration/gate/net.ts";

describe("check: a numeric secret masks none of the report's own numbers", () => {
  it("json stays JSON and the length is there; text shows it too; the secret itself is still masked", async () => {
    const dir = join(tmp(), "s");
    mkdirSync(dir);
    writeFileSync(join(dir, "pin"), "1234");
    writeFileSync(join(dir, "blob"), "x".repeat(1234));
    const env = cleanEnv({ HOME: tmp() });
    const j = await latchkey(["check", "--format", "json", "--secrets-dir", dir, "--ssh", "none"], { env });
    expect(j.code, j.stderr).toBe(0);
    const report = JSON.parse(j.stdout) as { variables: Array<{ name: string; length: number }> };
    expect(report.variables.find((v) => v.name === "BLOB")!.length).toBe(1234);
    const t = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none"], { env });
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^\s+BLOB\s+secrets dir\s+\S+\s+1234\s+[0-9a-f]{16}$/m);
    // A string that quotes the value is still masked: the source path of a file named after it.
    writeFileSync(join(dir, "k1234"), "whatever-value");
    const q = await latchkey(["check", "--format", "json", "--secrets-dir", dir, "--ssh", "none"], { env });
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toContain(`${dir}/k[redacted]`);
  });
});
