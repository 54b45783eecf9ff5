/**
 * The vault:// source in-process against a real OpenBao (and PostgreSQL behind its database
 * engine) on 127.0.0.1: token, AppRole and JWT auth, KV v1/v2 detection, versions, dynamic
 * secrets with leases, errors, namespaces, policy files. Requests are counted from OpenBao's
 * audit log. Faults a real server cannot produce on demand: vault-source-faults.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpenBao, type OpenBao } from "../../servers/openbao.ts";
import { mountDatabase, startPostgres, type Postgres } from "../../servers/postgres.ts";
import { newKeyPair, signJwt } from "../../servers/vault/jwt.ts";
import { createVaultSource, type VaultSource } from "../../../src/sources/vault/index.ts";
import { onLeaseEnding, parseReference, registerScheme, type Reference } from "../../../src/sources/source.ts";
import { Settings } from "../../../src/config/settings.ts";
import { Logger } from "../../../src/log/logger.ts";
import { isLatchkeyError, LatchkeyError } from "../../../src/errors.ts";
import { registerVaultFlags } from "../../../src/sources/vault/flags.ts";
import { registerPolicyFlags } from "../../../src/policy/flags.ts";
import { resetPolicies } from "../../../src/policy/active.ts";

registerVaultFlags();
registerPolicyFlags();
registerScheme("vault", () => createVaultSource());

const quiet = new Logger(-1);
quiet.level = "silent";
const tmp = mkdtempSync(join(tmpdir(), "latchkey-vault-"));

function ref(s: string): Reference {
  return parseReference(s, "TEST")!;
}

function ctx(env: Record<string, string>, flags: Record<string, string | boolean> = {}, deadlineMs = 10_000) {
  return { log: quiet, deadline: Date.now() + deadlineMs, signal: new AbortController().signal, settings: new Settings({ flags, env }) };
}

async function fetchWith(env: Record<string, string>, refs: string[], flags: Record<string, string | boolean> = {}, deadlineMs = 10_000) {
  const src = createVaultSource(env);
  try {
    const got = await src.fetch(refs.map(ref), ctx(env, flags, deadlineMs));
    return { src, got };
  } catch (e) {
    await src.close();
    throw e;
  }
}

async function failure(p: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await p;
  } catch (e) {
    if (isLatchkeyError(e)) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

let v: OpenBao;
let pg: Postgres;
const sources: VaultSource[] = [];
beforeAll(async () => {
  [v, pg] = await Promise.all([startOpenBao(), startPostgres()]);
  await v.enable("mounts", "kv1", "kv", { options: { version: "1" } });
  await mountDatabase(v, pg, "database", { app: { ttl: 60, maxTtl: 600 }, short: { ttl: 3, maxTtl: 3 }, renew: { ttl: 4, maxTtl: 60 } });
  await v.kvPut("app", { api_key: "k-111-secret", user: "svc" });
  await v.kvPut("app", { api_key: "k-222-secret", user: "svc" });
  await v.must("POST", "kv1/legacy", { password: "legacy-pw-value" });
  await v.policy("app-read", [
    'path "secret/data/app" { capabilities = ["read"] }',
    'path "kv1/*" { capabilities = ["read"] }',
    'path "database/creds/*" { capabilities = ["read"] }',
  ].join("\n"));
}, 60_000);
afterAll(async () => {
  await Promise.all([v?.stop(), pg?.stop()]);
});
afterEach(async () => {
  resetPolicies();
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

describe("token auth and KV", () => {
  it("reads KV v2 by API path and by mount-relative path, latest and ?version", async () => {
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, [
      "vault://secret/data/app#api_key", "vault://secret/app", "vault://secret/app?version=1#api_key",
    ]);
    sources.push(src);
    expect(JSON.parse(got[0]!.value.toString()).api_key).toBe("k-222-secret");
    expect(got[0]!.version).toMatch(/^2(\D|$)/);
    expect(JSON.parse(got[1]!.value.toString())).toEqual({ api_key: "k-222-secret", user: "svc" });
    expect(JSON.parse(got[2]!.value.toString()).api_key).toBe("k-111-secret");
    expect(got[2]!.version).toMatch(/^1(\D|$)/);
  });

  it("detects KV v1 from the server (not the path) and refuses ?version there", async () => {
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://kv1/legacy#password"]);
    sources.push(src);
    expect(JSON.parse(got[0]!.value.toString()).password).toBe("legacy-pw-value");
    expect(v.count((r) => r.path.startsWith("sys/internal/ui/mounts/kv1"))).toBeGreaterThan(0);
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://kv1/legacy?version=2"]));
    expect(e.message).toContain("KV v1");
    expect(e.exitCode).toBe(78);
  });

  it("one mount preflight per mount for many paths", async () => {
    for (let i = 0; i < 30; i++) await v.kvPut(`many/p${i}`, { v: `value-${i}-xyz` });
    const before = v.count((r) => r.path.includes("sys/internal/ui/mounts"));
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, Array.from({ length: 30 }, (_, i) => `vault://secret/many/p${i}#v`));
    sources.push(src);
    expect(got.map((g) => JSON.parse(g.value.toString()).v)).toEqual(Array.from({ length: 30 }, (_, i) => `value-${i}-xyz`));
    expect(v.count((r) => r.path.includes("sys/internal/ui/mounts")) - before).toBe(1);
  });

  it("a bad token is refused naming where it came from, never its value", async () => {
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: "hvs.not-a-real-token" }, ["vault://secret/app"]));
    expect(e.exitCode).toBe(77);
    expect(e.message).toContain("VAULT_TOKEN");
    expect(e.message).toContain("403");
    expect(e.message).not.toContain("hvs.not-a-real-token");
  });

  it("403 names the path and the token's policies; 404 names the path; all or nothing", async () => {
    const t = await v.token({ policies: ["default", "app-read"], ttl: "10m" });
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: t };
    await v.kvPut("other", { x: "other-secret-value" });
    const denied = await failure(fetchWith(env, ["vault://secret/data/other#x"]));
    expect(denied.exitCode).toBe(77);
    expect(denied.message).toContain("secret/data/other");
    expect(denied.message).toContain("app-read");
    const missing = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/app#api_key", "vault://secret/nope"]));
    expect(missing.exitCode).toBe(66);
    expect(missing.message).toContain("secret/data/nope");
    expect(missing.message).not.toContain("k-222-secret");
  });

  it("deleted and destroyed versions are explained", async () => {
    await v.kvPut("rot", { a: "rot-v1-value" });
    await v.kvPut("rot", { a: "rot-v2-value" });
    await v.must("POST", "secret/delete/rot", { versions: [2] });
    await v.must("POST", "secret/destroy/rot", { versions: [1] });
    const del = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/rot"]));
    expect(del.message).toMatch(/deleted at/);
    const des = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/rot?version=1"]));
    expect(des.message).toMatch(/destroyed/);
  });
});

describe("auth methods", () => {
  it("AppRole from files, token revoked on close", async () => {
    const roleId = await v.appRole("web", { token_policies: ["app-read"], token_ttl: "10m" });
    writeFileSync(join(tmp, "role_id"), roleId + "\n");
    writeFileSync(join(tmp, "secret_id"), (await v.secretId("web")) + "\n");
    const env = { VAULT_ADDR: v.url };
    const src = createVaultSource(env);
    const got = await src.fetch([ref("vault://secret/app#api_key")], ctx(env, { "vault-role-id-file": join(tmp, "role_id"), "vault-secret-id-file": join(tmp, "secret_id") }));
    expect(JSON.parse(got[0]!.value.toString()).api_key).toBe("k-222-secret");
    const token = src.client!.token;
    expect((await v.api("GET", "auth/token/lookup-self", undefined, token)).status).toBe(200);
    await src.close();
    expect((await v.api("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
  });

  it("AppRole with a response-wrapped secret_id; a second unwrap is refused", async () => {
    const roleId = await v.appRole("wrapped", { token_policies: ["app-read"], token_ttl: "10m" });
    const wrapToken = await v.secretId("wrapped", "60s");
    const env = { VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: wrapToken };
    const { src, got } = await fetchWith(env, ["vault://secret/app#api_key"], { "vault-secret-id-wrapped": true });
    sources.push(src);
    expect(got).toHaveLength(1);
    const again = await failure(fetchWith(env, ["vault://secret/app#api_key"], { "vault-secret-id-wrapped": true }));
    expect(again.message).toMatch(/already used|compromised/);
    expect(again.message).not.toContain(wrapToken);
  });

  it("AppRole with a wrong secret_id fails with Vault's reason", async () => {
    const roleId = await v.appRole("bad", { token_policies: ["app-read"] });
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: "wrong-secret-id-123" }, ["vault://secret/app"]));
    expect(e.exitCode).toBe(77);
    expect(e.message).toContain("invalid");
    expect(e.message).not.toContain("wrong-secret-id-123");
  });

  it("JWT role login checks the signature and the audience", async () => {
    const keys = newKeyPair();
    await v.enable("auth", "jwt", "jwt");
    await v.must("POST", "auth/jwt/config", { jwt_validation_pubkeys: [keys.publicKey.export({ type: "spki", format: "pem" }).toString()] });
    await v.must("POST", "auth/jwt/role/ci", { role_type: "jwt", user_claim: "sub", bound_audiences: ["vault"], token_policies: ["app-read"], token_ttl: "10m" });
    const now = Math.floor(Date.now() / 1000);
    writeFileSync(join(tmp, "jwt-ok"), signJwt({ aud: "vault", sub: "ci", iat: now, exp: now + 600 }, keys.privateKey));
    writeFileSync(join(tmp, "jwt-bad"), signJwt({ aud: "other", sub: "ci", iat: now, exp: now + 600 }, keys.privateKey));
    writeFileSync(join(tmp, "jwt-forged"), signJwt({ aud: "vault", sub: "ci", iat: now, exp: now + 600 }, newKeyPair().privateKey));
    const env = { VAULT_ADDR: v.url };
    const { src } = await fetchWith(env, ["vault://secret/app"], { "vault-auth": "jwt", "vault-role": "ci", "vault-jwt-file": join(tmp, "jwt-ok") });
    sources.push(src);
    const e = await failure(fetchWith(env, ["vault://secret/app"], { "vault-auth": "jwt", "vault-role": "ci", "vault-jwt-file": join(tmp, "jwt-bad") }));
    expect(e.message).toContain("JWT login");
    expect(e.message).toMatch(/aud/);
    const f = await failure(fetchWith(env, ["vault://secret/app"], { "vault-auth": "jwt", "vault-role": "ci", "vault-jwt-file": join(tmp, "jwt-forged") }));
    expect(f.message).toContain("JWT login");
  });

  it("renews its token at ~2/3 of the TTL and logs in again at the max TTL", { timeout: 30_000 }, async () => {
    const roleId = await v.appRole("short", { token_policies: ["app-read"], token_ttl: "3s", token_max_ttl: "5s" });
    const env = { VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: await v.secretId("short") };
    const { src } = await fetchWith(env, ["vault://secret/app"]);
    sources.push(src);
    const first = src.client!.token;
    await new Promise((r) => setTimeout(r, 8000));
    expect(src.tokens!.renewals).toBeGreaterThanOrEqual(1);
    expect(src.tokens!.logins).toBeGreaterThanOrEqual(1);
    expect(src.client!.token).not.toBe(first);
    expect((await v.api("GET", "auth/token/lookup-self", undefined, src.client!.token)).status).toBe(200);
  });
});

describe("versions() for rotation", () => {
  it("KV v2: current_version from metadata, a new write changes it; pinned refs return the pin; KV v1 unknown", async () => {
    await v.kvPut("ver", { a: "ver-1-value" });
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const refs = [ref("vault://secret/ver#a"), ref("vault://secret/ver?version=1#a"), ref("vault://kv1/legacy")];
    const got = await src.fetch(refs, ctx(env));
    const dataReads = v.count((r) => r.path === "secret/data/ver");
    expect(await src.versions(refs, ctx(env))).toEqual([got[0]!.version, "1", undefined]);
    await v.kvPut("ver", { a: "ver-2-value" });
    expect((await src.versions(refs, ctx(env)))[0]).not.toBe(got[0]!.version);
    expect(v.count((r) => r.path === "secret/data/ver")).toBe(dataReads);
  });

  it("dynamic secret: the lease id while renewable", async () => {
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const refs = [ref("vault://database/creds/app")];
    const got = await src.fetch(refs, ctx(env, { "vault-keep-leases": true }));
    expect(await src.versions(refs, ctx(env))).toEqual([got[0]!.lease!.id]);
  });
});

describe("dynamic secrets and leases (PostgreSQL)", () => {
  it("renews the lease while running and revokes it (with the token) on close", { timeout: 30_000 }, async () => {
    const roleId = await v.appRole("db", { token_policies: ["app-read"], token_ttl: "10m" });
    const env = { VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: await v.secretId("db") };
    const src = createVaultSource(env);
    const got = await src.fetch([ref("vault://database/creds/renew#username")], ctx(env));
    const lease = got[0]!.lease!;
    const creds = JSON.parse(got[0]!.value.toString()) as { username: string; password: string };
    expect(lease.renewable).toBe(true);
    expect(pg.canLogin(creds.username, creds.password)).toBe(true);
    // Renewal is due at two thirds of 4 s; the lease (and the role) would be gone at 4 s without it.
    await new Promise((r) => setTimeout(r, 6000));
    expect(v.count((e) => e.path === "sys/leases/renew")).toBeGreaterThanOrEqual(1);
    expect(pg.roleExists(creds.username)).toBe(true);
    await src.close();
    expect(v.count((e) => e.path === "auth/token/revoke-self" && !e.error)).toBeGreaterThanOrEqual(1);
    // Vault revokes the token's leases (DROP ROLE) just after revoke-self answers.
    for (let i = 0; i < 100 && pg.roleExists(creds.username); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pg.roleExists(creds.username)).toBe(false);
  });

  it("a lease Vault stops extending (max TTL) is announced with leaseEnding and versions() changes", async () => {
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const ended: string[] = [];
    const off = onLeaseEnding((r) => ended.push(r));
    try {
      const refs = [ref("vault://database/creds/short#password")];
      const got = await src.fetch(refs, ctx(env, { "vault-keep-leases": true }));
      expect(got[0]!.version).toBe(got[0]!.lease!.id);
      await new Promise((r) => setTimeout(r, 2800));
      expect(ended).toEqual(["vault://database/creds/short#password"]);
      expect((await src.versions(refs, ctx(env)))[0]).toBe(`expiring:${got[0]!.lease!.id}`);
    } finally {
      off();
    }
  }, 15_000);

  it("#username and #password of one dynamic path come from one read (one lease, a matching pair)", async () => {
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const before = v.count((e) => e.path === "database/creds/app");
    const got = await src.fetch([ref("vault://database/creds/app#username"), ref("vault://database/creds/app#password")], ctx(env, { "vault-keep-leases": true }));
    expect(v.count((e) => e.path === "database/creds/app") - before).toBe(1);
    expect(got[0]!.value.equals(got[1]!.value)).toBe(true);
    expect(got[0]!.ref.key).toBe("username");
    expect(got[1]!.ref.key).toBe("password");
    expect(await src.versions(got.map((g) => g.ref), ctx(env))).toEqual([got[0]!.lease!.id, got[0]!.lease!.id]);
  });

  it("--vault-keep-leases leaves the lease alone", async () => {
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    const got = await src.fetch([ref("vault://database/creds/app")], ctx(env, { "vault-keep-leases": true }));
    await src.close();
    expect(pg.roleExists(JSON.parse(got[0]!.value.toString()).username)).toBe(true);
  });
});

describe("availability", () => {
  it("unreachable: retried, then names the address", async () => {
    const e = await failure(fetchWith({ VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "x-token-1234" }, ["vault://secret/app"], {}, 1500));
    expect(e.exitCode).toBe(75);
    expect(e.message).toContain("127.0.0.1:9");
    expect(e.message).toContain("ECONNREFUSED");
  });

  it("no credentials at all: a config error naming the reference", async () => {
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, HOME: tmp }, ["vault://secret/app"]));
    expect(e.exitCode).toBe(78);
    expect(e.message).toContain("vault://secret/app");
    expect(e.message).toContain("VAULT_TOKEN");
  });
});

describe("namespaces", () => {
  it("sends X-Vault-Namespace; tokens and secrets are per namespace", async () => {
    await v.must("POST", "sys/namespaces/team-a", {});
    const ns = async (method: string, path: string, body?: unknown) => {
      const r = await v.api(method, path, body, v.rootToken, { "x-vault-namespace": "team-a" });
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await ns("POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } });
    await ns("POST", "secret/data/app", { data: { k: "team-a-value" } });
    await ns("PUT", "sys/policies/acl/reader", { policy: 'path "secret/*" { capabilities = ["read"] }\npath "sys/internal/ui/mounts/*" { capabilities = ["read"] }' });
    const t = (await ns("POST", "auth/token/create", { policies: ["reader"], ttl: "10m" }))!.auth.client_token as string;
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: t, VAULT_NAMESPACE: "team-a" }, ["vault://secret/app#k"]);
    sources.push(src);
    expect(JSON.parse(got[0]!.value.toString()).k).toBe("team-a-value");
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: t }, ["vault://secret/app"]));
    expect(e.exitCode).toBe(77);
  });
});

describe("policy", () => {
  it("a reference outside the allow-list fails closed before the read, naming the rule", async () => {
    const pf = join(tmp, "policy.yaml");
    writeFileSync(pf, "policy:\n  allow:\n    vault: ['secret/data/payments/*']\n");
    const before = v.count((r) => r.path === "secret/data/app");
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/app"], { policy: pf }));
    expect(e.exitCode).toBe(77);
    expect(e.message).toContain("secret/data/payments/*");
    expect(e.message).toContain(pf);
    expect(v.count((r) => r.path === "secret/data/app")).toBe(before);
    await v.kvPut("payments/stripe", { key: "sk-payments-value" });
    resetPolicies();
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/payments/stripe#key"], { policy: pf });
    sources.push(src);
    expect(got).toHaveLength(1);
  });
});
