/**
 * The platform's policy file (/etc/latchkey/policy.yaml) holds whatever the image's env or a
 * compose override says. Run in a private mount namespace with a tmpfs on /etc/latchkey, so
 * the machine's /etc is not touched (only an empty /etc/latchkey mount point, removed after).
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inMountNamespace } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/processes.ts";

const root = process.getuid?.() === 0;
const MOUNT = "/etc/latchkey";
const created = root && !existsSync(MOUNT);
if (created) mkdirSync(MOUNT);
afterAll(() => {
  if (created) rmdirSync(MOUNT);
});

/** latchkey with `policy` as the platform file; `env` is all the environment it gets. */
function withPlatformPolicy(policy: string, args: string[], env: Record<string, string>) {
  const d = tempDir();
  const file = join(d, "policy.yaml");
  writeFileSync(file, policy);
  return inMountNamespace(`mount -t tmpfs tmpfs ${MOUNT} && cp "$1" ${MOUNT}/policy.yaml`, [LATCHKEY, ...args],
    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } }, [file]);
}

describe.runIf(root)("platform policy file", () => {
  it("refuses a reference outside it, and LATCHKEY_POLICY= in the env does not lift it", async () => {
    const d = tempDir();
    const secret = join(d, "db");
    writeFileSync(secret, "platform-policy-value\n");
    const allowAll = join(d, "allow-all.yaml");
    writeFileSync(allowAll, "unlisted: allow\n");
    const policy = 'allow:\n  file: ["/run/secrets/*"]\n';
    const overrides: Record<string, string>[] = [{}, { LATCHKEY_POLICY: "" }, { LATCHKEY_POLICY: allowAll }];
    for (const extra of overrides) {
      const r = await withPlatformPolicy(policy, ["--", "sh", "-c", "echo APP-RAN"], { DB: `file://${secret}`, ...extra });
      expect(r.code, r.stderr).toBe(77);
      expect(r.stdout).not.toContain("APP-RAN");
      expect(r.stderr).toMatch(/refused by policy .*\/etc\/latchkey\/policy\.yaml/);
      expect(r.stderr).not.toContain("platform-policy-value");
    }
  });

  it("a reference inside it works", async () => {
    const r = await withPlatformPolicy('allow:\n  file: ["/tmp/**"]\n', ["--", "sh", "-c", 'echo "got ${#DB}"'], { DB: `file://${join(tempDir(), "..", "nope")}` });
    // the reference is allowed; the file is missing, which is the next check (exit 66)
    expect(r.code, r.stderr).toBe(66);
    expect(r.stderr).not.toMatch(/refused by policy/);
  });
});
