/**
 * The built binary with vault:// references against OpenBao on 127.0.0.1 (PostgreSQL behind
 * its database engine): references in env values and in the config file, the `vault:` config
 * section, AppRole from files, scrubbing of VAULT_TOKEN, policy files, partial failure, token
 * and lease revocation when the supervised app exits, leases kept in exec mode. The last block
 * uses the hand-written server for what OpenBao cannot do on demand: sealed for an exact time,
 * a slow answer on every request (to see concurrency), TLS with generated certificates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { latchkey } from "../../helpers/run.ts";
import { waitFor } from "../../helpers/processes.ts";
import { cleanEnv, probe, readProbe, workspace } from "../file-secrets/fixtures.ts";
import { TestVault } from "../../servers/vault/server.ts";
import { makePki } from "../../servers/vault/certs.ts";
import { startOpenBao, type OpenBao } from "../../servers/openbao.ts";
import { mountDatabase, startPostgres, type Postgres } from "../../servers/postgres.ts";

const ws = workspace("vault");
let v: OpenBao;
let pg: Postgres;
let n = 0;
const out = () => ws.path("out", `p${++n}`);

beforeAll(async () => {
  [v, pg] = await Promise.all([startOpenBao(), startPostgres()]);
  await v.enable("mounts", "kv1", "kv", { options: { version: "1" } });
  await mountDatabase(v, pg, "database", { app: { ttl: 300, maxTtl: 3600 } });
  await v.kvPut("app", { api_key: "vault-api-key-1f2e", password: "vault-db-pass-9a8b" });
  await v.kvPut("app", { api_key: "vault-api-key-v2-77aa", password: "vault-db-pass-9a8b" });
  await v.must("POST", "kv1/legacy", { token: "kv1-token-value-55" });
  for (let i = 0; i < 20; i++) await v.kvPut(`batch/s${i}`, { v: `batch-value-${i}-zz` });
  await v.policy("app", 'path "secret/data/app" { capabilities = ["read"] }\npath "database/creds/app" { capabilities = ["read"] }');
}, 60_000);
afterAll(async () => {
  await Promise.all([v?.stop(), pg?.stop()]);
});

const tokenEnv = (extra: Record<string, string> = {}) => cleanEnv({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken, ...extra });

describe("vault:// in the built binary", () => {
  it("KV v2 key, KV v2 ?version, KV v1; VAULT_TOKEN is not passed to the app", async () => {
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: tokenEnv({
      API_KEY: "vault://secret/data/app#api_key", OLD_KEY: "vault://secret/app?version=1#api_key", LEGACY: "vault://kv1/legacy#token",
    }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const env = readProbe(o)!;
    expect(env.API_KEY).toBe("vault-api-key-v2-77aa");
    expect(env.OLD_KEY).toBe("vault-api-key-1f2e");
    expect(env.LEGACY).toBe("kv1-token-value-55");
    expect(env.VAULT_TOKEN).toBeUndefined();
    expect(env.VAULT_ADDR).toBe(v.url);
  });

  it("BAO_ADDR/BAO_TOKEN (OpenBao's names) work and win over VAULT_*; BAO_TOKEN is not passed to the app (#13 item 10)", async () => {
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: cleanEnv({
      BAO_ADDR: v.url, BAO_TOKEN: v.rootToken, VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "hvs.not-this-one", API_KEY: "vault://secret/data/app#api_key",
    }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const env = readProbe(o)!;
    expect(env.API_KEY).toBe("vault-api-key-v2-77aa");
    expect(env.BAO_TOKEN).toBeUndefined();
    expect(env.VAULT_TOKEN).toBeUndefined();
    expect(env.BAO_ADDR).toBe(v.url);
  });

  it("a write-only endpoint (405) exits 78, not 75 (#13 item 12)", async () => {
    const r = await latchkey(["--", "true"], { env: tokenEnv({ X: "vault://auth/token/create" }) });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("vault://auth/token/create");
    expect(r.stderr).toContain("write-only");
  });

  it("http:// to OpenBao's TLS listener shows the server's reason and says to use https:// (78) (#13 item 9)", async () => {
    const tls = await startOpenBao({ tls: true });
    try {
      const plain = tls.url.replace("https://", "http://");
      const r = await latchkey(["--", "true"], { env: cleanEnv({ VAULT_ADDR: plain, VAULT_TOKEN: tls.rootToken, X: "vault://secret/app#k" }) });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("vault://secret/app#k");
      expect(r.stderr).toContain("Client sent an HTTP request to an HTTPS server");
      expect(r.stderr).toContain("use an https:// address");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      await tls.kvPut("app", { k: "over-real-tls" });
      const o = out();
      const ok = await latchkey(["--", ...probe(o)], { env: cleanEnv({ VAULT_ADDR: tls.url, VAULT_CACERT: tls.caFile, VAULT_TOKEN: tls.rootToken, X: "vault://secret/app#k" }) });
      expect(ok.stderr).toBe("");
      expect(readProbe(o)!.X).toBe("over-real-tls");
    } finally {
      await tls.stop();
    }
  });

  it("'#key' on a secret that is not JSON says what asked for JSON: the '#key', not --expand (#13 item 8)", async () => {
    writeFileSync(ws.path("plain"), "plain-text-secret-value\n");
    const r = await latchkey(["--", "true"], { env: cleanEnv({ X: `file://${ws.path("plain")}#user` }) });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("#user");
    expect(r.stderr).not.toContain("--expand");
    expect(r.stderr).not.toContain("plain-text-secret-value");
  });

  it("config file: sources and the vault: section (AppRole from files); the token is revoked when the app exits", async () => {
    const roleId = await v.appRole("cfg", { token_policies: ["app"], token_ttl: "10m" });
    writeFileSync(ws.path("role_id"), roleId);
    writeFileSync(ws.path("secret_id"), await v.secretId("cfg"));
    writeFileSync(ws.path("cfg.yaml"), [
      "vault:", `  address: ${v.url}`, "  auth:", "    method: approle", `    roleIdFile: ${ws.path("role_id")}`, `    secretIdFile: ${ws.path("secret_id")}`,
      "sources:", "  DB_PASSWORD: vault://secret/app#password", "",
    ].join("\n"));
    const o = out();
    const r = await latchkey(["--config", ws.path("cfg.yaml"), "--", ...probe(o)], { env: cleanEnv() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readProbe(o)!.DB_PASSWORD).toBe("vault-db-pass-9a8b");
    expect(v.count((q) => q.path === "auth/approle/login" && !q.error)).toBe(1);
    // The token latchkey created was revoked (revoke-self) once the supervised app exited.
    expect(v.count((q) => q.path === "auth/token/revoke-self" && !q.error)).toBe(1);
    const accessors = (await v.must("GET", "auth/token/accessors?list=true"))!.data.keys as string[];
    const live = await Promise.all(accessors.map(async (a) => (await v.must("POST", "auth/token/lookup-accessor", { accessor: a }))!.data.display_name as string));
    expect(live.filter((d) => d.startsWith("approle"))).toEqual([]);
  });

  it("dynamic credentials: the lease is revoked when the supervised app exits, kept in exec mode", async () => {
    const roleId = await v.appRole("dyn", { token_policies: ["app"], token_ttl: "10m" });
    const env = (sid: string) => cleanEnv({ VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: sid, DB_USER: "vault://database/creds/app#username" });
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: env(await v.secretId("dyn")) });
    expect(r.code).toBe(0);
    const user = readProbe(o)!.DB_USER!;
    expect(user).toMatch(/^v-approle-app-/);
    expect(readProbe(o)!.VAULT_SECRET_ID).toBeUndefined();
    // Revoked with latchkey's token: Vault drops the role (its lease revocation runs just after revoke-self answers).
    await waitFor(() => !pg.roleExists(user), `role ${user} dropped`, 10_000);

    const o2 = out();
    const r2 = await latchkey(["--exec", "--", ...probe(o2)], { env: env(await v.secretId("dyn")) });
    expect(r2.code).toBe(0);
    expect(pg.roleExists(readProbe(o2)!.DB_USER!)).toBe(true);
  });

  it("partial failure (19 of 20 readable): the app never starts and the missing path is named", async () => {
    const refs: Record<string, string> = {};
    for (let i = 0; i < 19; i++) refs[`S${i}`] = `vault://secret/batch/s${i}#v`;
    refs.S19 = "vault://secret/batch/missing#v";
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: tokenEnv(refs) });
    expect(r.code).toBe(66);
    expect(r.stderr).toContain("vault://secret/batch/missing#v");
    expect(r.stderr).not.toMatch(/batch-value-\d+-zz/);
    expect(existsSync(o)).toBe(false);
  });

  it("403 names the path and the token's policies (exit 77)", async () => {
    const t = await v.token({ policies: ["default", "app"], ttl: "10m" });
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: cleanEnv({ VAULT_ADDR: v.url, VAULT_TOKEN: t, X: "vault://secret/data/batch/s1#v" }) });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("secret/data/batch/s1");
    expect(r.stderr).toContain("app, default");
    expect(r.stderr).not.toContain(t);
    expect(existsSync(o)).toBe(false);
  });

  it("policy file: a reference outside the allow-list fails closed naming the rule", async () => {
    writeFileSync(ws.path("policy.yaml"), "allow:\n  vault: ['secret/data/payments/**']\n");
    const o = out();
    const r = await latchkey(["--policy", ws.path("policy.yaml"), "--", ...probe(o)], { env: tokenEnv({ API_KEY: "vault://secret/data/app#api_key" }) });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("secret/data/payments/**");
    expect(r.stderr).toContain(ws.path("policy.yaml"));
    expect(existsSync(o)).toBe(false);
    expect(v.count((q) => q.path === "secret/data/app")).toBeGreaterThan(0); // from earlier tests only
  });

  it("LATCHKEY_POLICY with an unlisted scheme denies aws-sm:// before any network", async () => {
    writeFileSync(ws.path("policy2.yaml"), "policy:\n  allow:\n    vault: ['secret/data/app']\n");
    const r = await latchkey(["--", "true"], { env: tokenEnv({ LATCHKEY_POLICY: ws.path("policy2.yaml"), X: "aws-sm://prod/db#password", AWS_REGION: "us-east-1" }) });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("X");
    expect(r.stderr).toContain("aws-sm://prod/db#password");
    expect(r.stderr).toContain("no 'aws-sm' references are allowed");
  });

  it("VAULT_SKIP_VERIFY is warned about; a bad auth method is a config error naming the flag", async () => {
    const r = await latchkey(["--", "true"], { env: tokenEnv({ VAULT_SKIP_VERIFY: "true", X: "vault://secret/app#api_key" }) });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("TLS verification");
    const r2 = await latchkey(["--vault-auth", "ldap", "--", "true"], { env: tokenEnv({ X: "vault://secret/app#api_key" }) });
    expect(r2.code).toBe(64);
    expect(r2.stderr).toContain("--vault-auth");
    expect(r2.stderr).toContain("ldap");
  });

  it("malformed and unknown references fail before any request", async () => {
    const before = v.count();
    const r = await latchkey(["--", "true"], { env: tokenEnv({ X: "vault://secret/app?version=abc" }) });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("invalid version 'abc'");
    const r2 = await latchkey(["--", "true"], { env: tokenEnv({ X: "vualt://secret/app" }) });
    expect(r2.code).toBe(78);
    expect(r2.stderr).toContain("unknown reference scheme 'vualt://'");
    const r3 = await latchkey(["--", "true"], { env: tokenEnv({ X: "vault://secret/app#" }) });
    expect(r3.code).toBe(78);
    expect(r3.stderr).toContain("malformed reference");
    // The version check needs the mount (KV v1 has none), so only the first may have talked to Vault.
    await new Promise((res) => setTimeout(res, 100)); // the audit log is written after the answer
    expect(v.count() - before).toBeLessThanOrEqual(3);
  });

  it("--expand fans a whole Vault secret out into variables; check lists them without values", async () => {
    const o = out();
    const r = await latchkey(["--expand", "APP=json", "--", ...probe(o)], { env: tokenEnv({ APP: "vault://secret/app" }) });
    expect(r.stderr).toBe("");
    const env = readProbe(o)!;
    expect(env.APP_API_KEY).toBe("vault-api-key-v2-77aa");
    expect(env.APP_PASSWORD).toBe("vault-db-pass-9a8b");
    // #13 item 8: the variable that held the reference does not reach the app as the raw locator.
    expect(env.APP).toBeUndefined();
    const c = await latchkey(["check", "--expand", "APP=json"], { env: tokenEnv({ APP: "vault://secret/app" }) });
    expect(c.code).toBe(0);
    expect(c.stdout).toContain("APP_API_KEY");
    expect(c.stdout).toContain("vault://secret/app");
    expect(c.stdout + c.stderr).not.toContain("vault-api-key-v2-77aa");
  });
  it("--vault-token-file: the token comes from the file, is not passed to the app, and (not latchkey's) is not revoked", async () => {
    writeFileSync(ws.path("token"), `${v.rootToken}\n`);
    const revokes = v.count((q) => q.path === "auth/token/revoke-self");
    const ways: Array<{ flags: string[]; env: Record<string, string> }> = [
      { flags: ["--vault-token-file", ws.path("token")], env: {} },
      { flags: [], env: { LATCHKEY_VAULT_TOKEN_FILE: ws.path("token") } },
    ];
    for (const how of ways) {
      const o = out();
      const r = await latchkey([...how.flags, "--", ...probe(o)], { env: cleanEnv({ VAULT_ADDR: v.url, API_KEY: "vault://secret/data/app#api_key", ...how.env }) });
      expect(r.code, r.stderr).toBe(0);
      const env = readProbe(o)!;
      expect(env.API_KEY).toBe("vault-api-key-v2-77aa");
      expect(Object.values(env)).not.toContain(v.rootToken);
    }
    expect(v.count((q) => q.path === "auth/token/revoke-self")).toBe(revokes);
  });
});

describe("vault:// in the built binary, faults from the hand-written server", () => {
  let v: TestVault;
  beforeAll(async () => {
    v = await new TestVault().start();
    v.namespace("").kvPut("secret", "app", { api_key: "vault-api-key-v2-77aa" });
    for (let i = 0; i < 20; i++) v.namespace("").kvPut("secret", `batch/s${i}`, { v: `batch-value-${i}-zz` });
  });
  afterAll(async () => {
    await v.stop();
  });
  const tokenEnv = (extra: Record<string, string> = {}) => cleanEnv({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken, ...extra });

  it("sealed at startup: retried until unsealed, then the app starts", async () => {
    v.sealed = true;
    const timer = setTimeout(() => (v.sealed = false), 1500);
    try {
      const o = out();
      const r = await latchkey(["--", ...probe(o)], { env: tokenEnv({ API_KEY: "vault://secret/app#api_key" }) });
      expect(r.code).toBe(0);
      expect(readProbe(o)!.API_KEY).toBe("vault-api-key-v2-77aa");
      expect(v.count((q) => q.status === 503)).toBeGreaterThan(0);
    } finally {
      clearTimeout(timer);
      v.sealed = false;
    }
  });

  it("TLS: the right CA works; an unknown CA fails at once with a clear message (exit 75)", async () => {
    const pki = makePki();
    const tv = await new TestVault({ tls: { cert: pki.pem.cert, key: pki.pem.key } }).start();
    try {
      tv.namespace("").kvPut("secret", "tls", { k: "tls-binary-value" });
      const o = out();
      const ok = await latchkey(["--vault-ca-cert", pki.caFile, "--", ...probe(o)], { env: cleanEnv({ VAULT_ADDR: tv.url, VAULT_TOKEN: tv.rootToken, K: "vault://secret/tls#k" }) });
      expect(ok.stderr).toBe("");
      expect(readProbe(o)!.K).toBe("tls-binary-value");
      const bad = await latchkey(["--", "true"], { env: cleanEnv({ VAULT_ADDR: tv.url, VAULT_TOKEN: tv.rootToken, VAULT_CACERT: pki.otherCaFile, K: "vault://secret/tls#k" }) });
      expect(bad.code).toBe(75);
      expect(bad.stderr).toContain("TLS error");
      expect(bad.stderr).toContain("vault://secret/tls#k");
      expect(bad.ms).toBeLessThan(20_000);
    } finally {
      await tv.stop();
    }
  });

  it("reads many paths concurrently, never more than --vault-concurrency at a time", async () => {
    const refs: Record<string, string> = {};
    for (let i = 0; i < 20; i++) refs[`S${i}`] = `vault://secret/batch/s${i}#v`;
    v.latencyMs = 40; // answers that take a while, so that overlapping reads show
    try {
      for (const [flags, max] of [[["--vault-concurrency", "4"], 4], [[], 16]] as const) {
        v.maxInFlight = 0;
        const o = out();
        const r = await latchkey([...flags, "--", ...probe(o)], { env: tokenEnv(refs) });
        expect(r.code, r.stderr).toBe(0);
        expect(readProbe(o)!.S19).toBe("batch-value-19-zz");
        expect(v.maxInFlight).toBeGreaterThan(1);
        expect(v.maxInFlight).toBeLessThanOrEqual(max);
      }
    } finally {
      v.latencyMs = 0;
    }
  });
});
