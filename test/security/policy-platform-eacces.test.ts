/**
 * Finding 17 of issue 12: the platform policy (/etc/latchkey/policy.yaml) was skipped when
 * latchkey could not search /etc/latchkey (EACCES: started as a uid the platform did not
 * expect), so its rules silently did not apply. latchkey must fail closed: exit 77, one line.
 * Private mount namespace (the machine's /etc is not touched), latchkey as uid 65534.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync, chmodSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { inMountNamespace } from "../helpers/run.ts";
import { LATCHKEY } from "../helpers/paths.ts";
import { cleanEnv, probe, readProbe, workspace } from "../integration/file-secrets/fixtures.ts";

const root = process.getuid?.() === 0;
const MOUNT = "/etc/latchkey";
const created = root && !existsSync(MOUNT);
if (created) mkdirSync(MOUNT);
afterAll(() => {
  if (created) rmdirSync(MOUNT);
});
if (!root) console.log("policy-platform-eacces.test.ts: needs root (mount namespace, setpriv); skipped");

const ws = workspace("eacces");

describe.runIf(root)("platform policy that latchkey cannot see", () => {
  it("/etc/latchkey not searchable by latchkey's uid: exit 77, the app does not start", async () => {
    const secret = ws.path("db");
    writeFileSync(secret, "eacces-visible-value");
    chmodSync(secret, 0o644);
    const policy = ws.path("policy.yaml");
    writeFileSync(policy, 'allow:\n  file: ["/run/secrets/*"]\n');
    const home = ws.path("home");
    mkdirSync(home);
    chmodSync(home, 0o777);
    const o = ws.path("out", "app");
    const setup = `mount -t tmpfs -o mode=0700 tmpfs ${MOUNT} && cp "$1" ${MOUNT}/policy.yaml`;
    const argv = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", LATCHKEY, "--", ...probe(o)];
    const r = await inMountNamespace(setup, argv, { env: cleanEnv({ HOME: home, DB: `file://${secret}` }), timeoutMs: 20_000 }, [policy]);
    expect(readProbe(o), r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(/platform policy \/etc\/latchkey\/policy\.yaml.*EACCES/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
