/**
 * Issue #12, finding 13, for `latchkey check`'s own report (stdout, not the logger): the FROM
 * column and error lines quote paths from the environment and the secrets dirs, and a crafted
 * directory name with ESC[2J and a newline reached the terminal raw and forged report lines.
 * The text report must be escaped like log lines, with redaction still applied first.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, tmp } from "../integration/gate/net.ts";

const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe("check's text report escapes control characters (issue #12, finding 13)", () => {
  it("a secrets dir named with ESC[2J and a newline: no raw control character, no forged line", async () => {
    const dir = join(tmp(), "s\u001b[2J\nok: the app would start\u009b");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "api_key"), "check-ctl-value-1f2e");
    const r = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none"], { env: cleanEnv({ HOME: tmp() }) });
    expect(r.code, r.stderr).toBe(0);
    expect(RAW.test(r.stdout.replaceAll("\n", "")), "a raw control character in check's report").toBe(false);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("ok: the app would start"))).toHaveLength(1);
    expect(r.stdout).toContain("s\\u001b[2J\\nok: the app would start\\u009b/api_key");
  });

  it("a secret holding control characters, quoted in a check error line, is still redacted", async () => {
    const secret = `/nonexistent/chk\u001b[2J\u007fsecret\u0085canary-93ad`;
    const dir = tmp();
    writeFileSync(join(dir, "app.env"), `LEAKY=${secret}\n`);
    for (const format of ["text", "json"]) {
      const r = await latchkey(["check", "--format", format, "--dotenv", join(dir, "app.env"), "--file-vars", "X", "--ssh", "none"], {
        env: cleanEnv({ HOME: tmp(), X_FILE: secret }),
      });
      expect(r.code).toBe(66);
      const out = r.stdout + r.stderr;
      expect(out.includes("canary-93ad"), `${format}: the secret's text reached the output`).toBe(false);
      expect(RAW.test(out.replaceAll("\n", "")), `${format}: a raw control character in the output`).toBe(false);
    }
  });
});
