/**
 * Write-style vault:// references (`?write`, src/sources/vault/write.ts) POST to Vault. A policy
 * that lets the environment *read* `secret/*` must not let whoever edits that environment
 * overwrite KV data with `vault://secret/data/x?write&password=...`: with a policy in force, a
 * write needs its own allowance (`write:`), and is refused (77) before any request. And
 * `latchkey check` reports a write without making it (it issued a certificate before).
 * Requests are counted in OpenBao's audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, probe, readProbe, workspace } from "../integration/file-secrets/fixtures.ts";
import { baoBinary, startOpenBao, type OpenBao } from "../servers/openbao.ts";

const bao = baoBinary();
const why = bao ? "" : "OpenBao is not installed (scripts/setup-system test, or LATCHKEY_BAO=path/to/bao)";
if (why) console.log(`skipped: ${why}`);

const ws = workspace("policy-vault-write");
const HOME = ws.path("home");
mkdirSync(HOME);
let n = 0;

let b: OpenBao;
beforeAll(async () => {
  if (why) return;
  b = await startOpenBao();
  await b.enable("mounts", "kv1", "kv", { options: { version: "1" } });
  await b.must("POST", "kv1/x", { password: "original-value-1" });
  await b.must("POST", "sys/mounts/pki", { type: "pki", config: { max_lease_ttl: "87600h" } });
  await b.must("POST", "pki/root/generate/internal", { common_name: "latchkey test root", ttl: "87600h" });
  await b.must("POST", "pki/roles/web", { allowed_domains: "example.test", allow_subdomains: true, max_ttl: "1h", key_type: "ec", key_bits: 256 });
}, 60_000);
afterAll(async () => {
  await b?.stop();
});

const writes = () => b.count((e) => e.operation === "update" || e.operation === "create");
const overwrite = "vault://kv1/x?write&password=attacker-chosen";
const issue = "vault://pki/issue/web?write&common_name=app.example.test&ttl=10m#certificate";

async function run(policy: string | null, env: Record<string, string>, args: string[] = [], check = false) {
  const extra: string[] = [];
  if (policy !== null) {
    const file = ws.path(`policy${++n}.yaml`);
    writeFileSync(file, policy);
    extra.push("--policy", file);
  }
  const o = ws.path(`out${++n}`);
  const argv = check ? ["check", ...extra, ...args] : [...extra, ...args, "--", ...probe(o)];
  const r = await latchkey(argv, { env: cleanEnv({ HOME, VAULT_ADDR: b.url, VAULT_TOKEN: b.rootToken, ...env }), timeoutMs: 30_000 });
  return { r, app: check ? null : readProbe(o) };
}

describe.skipIf(why !== "")("vault:// writes need the policy's explicit allowance", () => {
  it("a policy allowing reads of kv1/* refuses a write to kv1/x (77), and Vault sees no write", async () => {
    const before = writes();
    const { r, app } = await run('allow:\n  vault: ["kv1/**"]\n', { X: overwrite });
    expect(app, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(/vault:\/\/kv1\/x\?write.*policy.*write/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(writes() - before).toBe(0);
    expect((await b.must("GET", "kv1/x"))!.data.password).toBe("original-value-1");
  });

  it("unlisted: allow does not allow writes either", async () => {
    const before = writes();
    const { r } = await run("unlisted: allow\n", { X: issue });
    expect(r.code, r.stderr).toBe(77);
    expect(writes() - before).toBe(0);
  });

  it("a deny rule beats a write rule", async () => {
    const before = writes();
    const { r } = await run('write:\n  vault: ["pki/issue/*"]\ndeny:\n  vault: ["pki/issue/web"]\n', { X: issue });
    expect(r.code, r.stderr).toBe(77);
    expect(writes() - before).toBe(0);
  });

  it("a write listed under write: is made", async () => {
    const before = writes();
    const { r, app } = await run('allow:\n  vault: ["secret/**"]\nwrite:\n  vault: ["pki/issue/web"]\n', { X: issue });
    expect(r.code, r.stderr).toBe(0);
    expect(app!.X).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(writes() - before).toBe(1);
  });

  it("without any policy, a write is made as before", async () => {
    const before = writes();
    const { r, app } = await run(null, { X: issue });
    expect(r.code, r.stderr).toBe(0);
    expect(app!.X).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(writes() - before).toBe(1);
  });

  it("check reports the write as 'would write PATH' and makes no write request", async () => {
    const before = writes();
    const { r } = await run(null, { X: issue }, [], true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/would write pki\/issue\/web/);
    expect(r.stdout).not.toContain("BEGIN CERTIFICATE");
    expect(writes() - before).toBe(0);
  });
});
