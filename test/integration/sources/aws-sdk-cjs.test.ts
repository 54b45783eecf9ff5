/**
 * dist/latchkey.cjs on a plain Node has no SEA asset: it loads the AWS SDK bundle shipped beside
 * it (dist/aws-sdk.cjs), and says what to ship when that file is missing. Copies of the two files
 * in a temp dir make sure no node_modules above them can stand in for the SDK.
 */
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/processes.ts";
import { run } from "../../helpers/run.ts";

const dist = dirname(LATCHKEY);
const env = {
  PATH: process.env.PATH!, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key", AWS_REGION: "us-east-1",
  // Nothing listens on port 9 of 127.0.0.1: the SDK loads, tries, and gives up at the deadline.
  AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:9", DB_PASSWORD: "aws-sm://prod/db#password",
};

describe("aws-sm:// from dist/latchkey.cjs", () => {
  it("uses aws-sdk.cjs beside the bundle", async () => {
    const dir = tempDir();
    for (const f of ["latchkey.cjs", "aws-sdk.cjs"]) copyFileSync(join(dist, f), join(dir, f));
    const r = await run(process.execPath, [join(dir, "latchkey.cjs"), "--fetch-timeout", "1500ms", "--", "sh", "-c", "echo APP-RAN"], { env });
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toContain("aws-sm://prod/db#password");
    expect(r.stderr).toContain("ECONNREFUSED");
    expect(r.stdout).not.toContain("APP-RAN");
  });

  it("without it: a one-line error saying what to ship (78), not a stack trace", async () => {
    const dir = tempDir();
    copyFileSync(join(dist, "latchkey.cjs"), join(dir, "latchkey.cjs"));
    const r = await run(process.execPath, [join(dir, "latchkey.cjs"), "--", "sh", "-c", "echo APP-RAN"], { env });
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("aws-sdk.cjs");
    expect(r.stdout).not.toContain("APP-RAN");
  });
});
