/**
 * The vault:// source in-process against the test Vault server on 127.0.0.1: auth methods,
 * KV v1/v2 detection, versions, dynamic secrets with leases, errors, TLS, namespaces.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestVault } from "../../servers/vault/server.ts";
import { makePki, type Pki } from "../../servers/vault/certs.ts";
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

let v: TestVault;
const sources: VaultSource[] = [];
beforeAll(async () => {
  v = await new TestVault().start();
  const root = v.namespace("");
  root.mountKv("kv1", 1);
  root.mountDatabase("database", { app: { defaultTtl: 3, maxTtl: 60 } });
  root.kvPut("secret", "app", { api_key: "k-111-secret", user: "svc" });
  root.kvPut("secret", "app", { api_key: "k-222-secret", user: "svc" });
  root.kvPut("kv1", "legacy", { password: "legacy-pw-value" });
  root.putPolicy("app-read", [
    { path: "secret/data/app", capabilities: ["read"] },
    { path: "kv1/*", capabilities: ["read"] },
    { path: "database/creds/app", capabilities: ["read"] },
  ]);
});
afterAll(async () => {
  await v.stop();
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
    expect(got[0]!.version).toBe("2");
    expect(JSON.parse(got[1]!.value.toString())).toEqual({ api_key: "k-222-secret", user: "svc" });
    expect(JSON.parse(got[2]!.value.toString()).api_key).toBe("k-111-secret");
    expect(got[2]!.version).toBe("1");
  });

  it("detects KV v1 from the server (not the path) and refuses ?version there", async () => {
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://kv1/legacy#password"]);
    sources.push(src);
    expect(JSON.parse(got[0]!.value.toString()).password).toBe("legacy-pw-value");
    expect(v.count((r) => r.path.startsWith("/v1/sys/internal/ui/mounts/kv1"))).toBeGreaterThan(0);
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://kv1/legacy?version=2"]));
    expect(e.message).toContain("KV v1");
    expect(e.exitCode).toBe(78);
  });

  it("one mount preflight per mount for many paths", async () => {
    const root = v.namespace("");
    for (let i = 0; i < 30; i++) root.kvPut("secret", `many/p${i}`, { v: `value-${i}-xyz` });
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
    const t = v.namespace("").createToken({ policies: ["default", "app-read"], ttl: 600 });
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: t.id };
    v.namespace("").kvPut("secret", "other", { x: "other-secret-value" });
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
    const root = v.namespace("");
    root.kvPut("secret", "rot", { a: "rot-v1-value" });
    root.kvPut("secret", "rot", { a: "rot-v2-value" });
    root.kvDelete("secret", "rot", [2], "delete");
    root.kvDelete("secret", "rot", [1], "destroy");
    const del = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/rot"]));
    expect(del.message).toMatch(/deleted at/);
    const des = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/rot?version=1"]));
    expect(des.message).toMatch(/destroyed/);
  });
});

describe("auth methods", () => {
  it("AppRole from files, token revoked on close", async () => {
    const root = v.namespace("");
    const { roleId } = root.addAppRole("web", { policies: ["app-read"], tokenTtl: 600 });
    const sid = root.newSecretId("web");
    writeFileSync(join(tmp, "role_id"), roleId + "\n");
    writeFileSync(join(tmp, "secret_id"), sid + "\n");
    const env = { VAULT_ADDR: v.url };
    const src = createVaultSource(env);
    const got = await src.fetch([ref("vault://secret/app#api_key")], ctx(env, { "vault-role-id-file": join(tmp, "role_id"), "vault-secret-id-file": join(tmp, "secret_id") }));
    expect(JSON.parse(got[0]!.value.toString()).api_key).toBe("k-222-secret");
    const token = src.client!.token;
    expect(root.liveToken(token)).toBeDefined();
    await src.close();
    expect(root.liveToken(token)).toBeUndefined();
  });

  it("AppRole with a response-wrapped secret_id; a second unwrap is refused", async () => {
    const root = v.namespace("");
    const { roleId } = root.addAppRole("wrapped", { policies: ["app-read"], tokenTtl: 600 });
    const r = await fetch(`${v.url}/v1/auth/approle/role/wrapped/secret-id`, { method: "POST", headers: { "x-vault-token": v.rootToken, "x-vault-wrap-ttl": "60" } });
    const wrapToken = ((await r.json()) as { wrap_info: { token: string } }).wrap_info.token;
    const env = { VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: wrapToken };
    const { src, got } = await fetchWith(env, ["vault://secret/app#api_key"], { "vault-secret-id-wrapped": true });
    sources.push(src);
    expect(got).toHaveLength(1);
    const again = await failure(fetchWith(env, ["vault://secret/app#api_key"], { "vault-secret-id-wrapped": true }));
    expect(again.message).toMatch(/already used|compromised/);
    expect(again.message).not.toContain(wrapToken);
  });

  it("AppRole with a wrong secret_id fails with Vault's reason", async () => {
    const root = v.namespace("");
    const { roleId } = root.addAppRole("bad", { policies: ["app-read"] });
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: "wrong-secret-id-123" }, ["vault://secret/app"]));
    expect(e.exitCode).toBe(77);
    expect(e.message).toContain("invalid role or secret ID");
    expect(e.message).not.toContain("wrong-secret-id-123");
  });

  it("Kubernetes login with a service-account JWT; a forged JWT is refused", async () => {
    const root = v.namespace("");
    const keys = newKeyPair();
    root.addJwtRole("kubernetes", "web", { policies: ["app-read"], ttl: 600, maxTtl: 0, boundServiceAccountNames: ["web"], boundServiceAccountNamespaces: ["prod"] }, keys.publicKey);
    const jwt = signJwt({ "kubernetes.io/serviceaccount/service-account.name": "web", "kubernetes.io/serviceaccount/namespace": "prod", exp: Date.now() / 1000 + 600 }, keys.privateKey);
    writeFileSync(join(tmp, "sa-token"), jwt);
    const env = { VAULT_ADDR: v.url };
    const { src, got } = await fetchWith(env, ["vault://secret/app#api_key"], { "vault-auth": "kubernetes", "vault-role": "web", "vault-jwt-file": join(tmp, "sa-token") });
    sources.push(src);
    expect(got).toHaveLength(1);
    const forged = signJwt({ "kubernetes.io/serviceaccount/service-account.name": "web", "kubernetes.io/serviceaccount/namespace": "prod" }, newKeyPair().privateKey);
    writeFileSync(join(tmp, "forged"), forged);
    const e = await failure(fetchWith(env, ["vault://secret/app"], { "vault-auth": "kubernetes", "vault-role": "web", "vault-jwt-file": join(tmp, "forged") }));
    expect(e.message).toContain("Kubernetes login");
    expect(e.message).toContain("permission denied");
  });

  it("JWT/OIDC role login checks the audience", async () => {
    const root = v.namespace("");
    const keys = newKeyPair();
    root.addJwtRole("jwt", "ci", { policies: ["app-read"], ttl: 600, maxTtl: 0, boundAudiences: ["vault"] }, keys.publicKey);
    writeFileSync(join(tmp, "jwt-ok"), signJwt({ aud: "vault", sub: "ci" }, keys.privateKey));
    writeFileSync(join(tmp, "jwt-bad"), signJwt({ aud: "other", sub: "ci" }, keys.privateKey));
    const env = { VAULT_ADDR: v.url };
    const { src } = await fetchWith(env, ["vault://secret/app"], { "vault-auth": "jwt", "vault-role": "ci", "vault-jwt-file": join(tmp, "jwt-ok") });
    sources.push(src);
    const e = await failure(fetchWith(env, ["vault://secret/app"], { "vault-auth": "jwt", "vault-role": "ci", "vault-jwt-file": join(tmp, "jwt-bad") }));
    expect(e.message).toContain("audience");
  });

  it("renews its token at ~2/3 of the TTL and logs in again at the max TTL", { timeout: 30_000 }, async () => {
    const root = v.namespace("");
    const { roleId } = root.addAppRole("short", { policies: ["app-read"], tokenTtl: 3, tokenMaxTtl: 5 });
    const env = { VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: root.newSecretId("short") };
    const { src } = await fetchWith(env, ["vault://secret/app"]);
    sources.push(src);
    const first = src.client!.token;
    await new Promise((r) => setTimeout(r, 8000));
    expect(src.tokens!.renewals).toBeGreaterThanOrEqual(1);
    expect(src.tokens!.logins).toBeGreaterThanOrEqual(1);
    expect(src.client!.token).not.toBe(first);
    expect(root.liveToken(src.client!.token)).toBeDefined();
  });
});

describe("versions() for rotation", () => {
  it("KV v2: current_version from metadata, a new write changes it; pinned refs return the pin; KV v1 unknown", async () => {
    const root = v.namespace("");
    root.kvPut("secret", "ver", { a: "ver-1-value" });
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const refs = [ref("vault://secret/ver#a"), ref("vault://secret/ver?version=1#a"), ref("vault://kv1/legacy")];
    const got = await src.fetch(refs, ctx(env));
    const dataReads = v.count((r) => r.path === "/v1/secret/data/ver");
    expect(await src.versions(refs, ctx(env))).toEqual([got[0]!.version, "1", undefined]);
    root.kvPut("secret", "ver", { a: "ver-2-value" });
    expect((await src.versions(refs, ctx(env)))[0]).toBe("2");
    expect(v.count((r) => r.path === "/v1/secret/data/ver")).toBe(dataReads);
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

describe("dynamic secrets and leases", () => {
  it("renews the lease while running and revokes it (with the token) on close", { timeout: 30_000 }, async () => {
    const root = v.namespace("");
    root.mountDatabase("db6", { app: { defaultTtl: 6, maxTtl: 60 } });
    root.putPolicy("db6", [{ path: "db6/creds/app", capabilities: ["read"] }]);
    const { roleId } = root.addAppRole("db", { policies: ["app-read", "db6"], tokenTtl: 600 });
    const env = { VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: root.newSecretId("db") };
    const src = createVaultSource(env);
    const got = await src.fetch([ref("vault://db6/creds/app#username")], ctx(env));
    const lease = got[0]!.lease!;
    expect(lease.renewable).toBe(true);
    expect(JSON.parse(got[0]!.value.toString()).username).toMatch(/^v-token-app-/);
    // Renewal is due at two thirds of 6 s; the lease would be gone at 6 s without it.
    await new Promise((r) => setTimeout(r, 7000));
    expect(root.leases.get(lease.id)!.expiresAt).toBeGreaterThan(Date.now());
    expect(root.leases.get(lease.id)!.renewals).toBeGreaterThanOrEqual(1);
    await src.close();
    expect(root.leases.get(lease.id)!.revoked).toBe(true);
  });

  it("a lease Vault stops extending (max TTL) is announced with leaseEnding and versions() changes", async () => {
    const root = v.namespace("");
    root.mountDatabase("shortdb", { app: { defaultTtl: 3, maxTtl: 3 } });
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const ended: string[] = [];
    const off = onLeaseEnding((r) => ended.push(r));
    try {
      const refs = [ref("vault://shortdb/creds/app#password")];
      const got = await src.fetch(refs, ctx(env, { "vault-keep-leases": true }));
      expect(got[0]!.version).toBe(got[0]!.lease!.id);
      await new Promise((r) => setTimeout(r, 2600));
      expect(ended).toEqual(["vault://shortdb/creds/app#password"]);
      expect((await src.versions(refs, ctx(env)))[0]).toBe(`expiring:${got[0]!.lease!.id}`);
    } finally {
      off();
    }
  }, 15_000);

  it("#username and #password of one dynamic path come from one read (one lease, a matching pair)", async () => {
    const root = v.namespace("");
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    sources.push(src);
    const before = root.leases.size;
    const got = await src.fetch([ref("vault://database/creds/app#username"), ref("vault://database/creds/app#password")], ctx(env, { "vault-keep-leases": true }));
    expect(root.leases.size - before).toBe(1);
    expect(got[0]!.value.equals(got[1]!.value)).toBe(true);
    expect(got[0]!.ref.key).toBe("username");
    expect(got[1]!.ref.key).toBe("password");
    expect(await src.versions(got.map((g) => g.ref), ctx(env))).toEqual([got[0]!.lease!.id, got[0]!.lease!.id]);
  });

  it("--vault-keep-leases leaves the lease alone", async () => {
    const root = v.namespace("");
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const src = createVaultSource(env);
    const got = await src.fetch([ref("vault://database/creds/app")], ctx(env, { "vault-keep-leases": true }));
    await src.close();
    expect(root.leases.get(got[0]!.lease!.id)!.revoked).toBe(false);
  });
});

describe("availability", () => {
  it("sealed: retried until unsealed within the deadline", async () => {
    v.sealed = true;
    setTimeout(() => (v.sealed = false), 1200);
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/app"]);
    sources.push(src);
    expect(got).toHaveLength(1);
  });

  it("sealed past the deadline: a clear error naming the state", async () => {
    v.sealed = true;
    try {
      const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/app"], {}, 1500));
      expect(e.exitCode).toBe(75);
      expect(e.message).toContain("Vault is sealed");
    } finally {
      v.sealed = false;
    }
  });

  it("standby without an active node: retried, then a clear error", async () => {
    v.standby = true;
    try {
      const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/app"], {}, 1500));
      expect(e.message).toContain("active");
    } finally {
      v.standby = false;
    }
  });

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
    const ns = v.namespace("team-a");
    ns.kvPut("secret", "app", { k: "team-a-value" });
    const t = ns.createToken({ policies: ["root"], ttl: 600 });
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: t.id, VAULT_NAMESPACE: "team-a" }, ["vault://secret/app#k"]);
    sources.push(src);
    expect(JSON.parse(got[0]!.value.toString()).k).toBe("team-a-value");
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: t.id }, ["vault://secret/app"]));
    expect(e.exitCode).toBe(77);
  });
});

describe("TLS", () => {
  let pki: Pki;
  let tv: TestVault;
  beforeAll(async () => {
    pki = makePki();
    tv = await new TestVault({ tls: { cert: pki.pem.cert, key: pki.pem.key, ca: pki.pem.ca, requireClientCert: true } }).start();
    tv.namespace("").kvPut("secret", "tls", { k: "over-tls-value" });
  });
  afterAll(async () => {
    await tv.stop();
  });

  it("CA file + client certificate works", async () => {
    const { src, got } = await fetchWith({ VAULT_ADDR: tv.url, VAULT_TOKEN: tv.rootToken, VAULT_CACERT: pki.caFile, VAULT_CLIENT_CERT: pki.clientCertFile, VAULT_CLIENT_KEY: pki.clientKeyFile }, ["vault://secret/tls#k"]);
    sources.push(src);
    expect(JSON.parse(got[0]!.value.toString()).k).toBe("over-tls-value");
  });

  it("server name override verifies against the name in the certificate", async () => {
    const addr = tv.url.replace("127.0.0.1", "localhost");
    const { src } = await fetchWith({ VAULT_ADDR: addr, VAULT_TOKEN: tv.rootToken, VAULT_CACERT: pki.caFile, VAULT_CLIENT_CERT: pki.clientCertFile, VAULT_CLIENT_KEY: pki.clientKeyFile, VAULT_TLS_SERVER_NAME: "vault.test" }, ["vault://secret/tls"]);
    sources.push(src);
    const e = await failure(fetchWith({ VAULT_ADDR: addr, VAULT_TOKEN: tv.rootToken, VAULT_CACERT: pki.caFile, VAULT_CLIENT_CERT: pki.clientCertFile, VAULT_CLIENT_KEY: pki.clientKeyFile, VAULT_TLS_SERVER_NAME: "wrong.example" }, ["vault://secret/tls"]));
    expect(e.message).toContain("TLS error");
    expect(e.message).toContain("server-name");
  });

  it("a wrong CA is a clear TLS error, not retried until the deadline", async () => {
    const t0 = Date.now();
    const e = await failure(fetchWith({ VAULT_ADDR: tv.url, VAULT_TOKEN: tv.rootToken, VAULT_CACERT: pki.otherCaFile, VAULT_CLIENT_CERT: pki.clientCertFile, VAULT_CLIENT_KEY: pki.clientKeyFile }, ["vault://secret/tls"], {}, 20_000));
    expect(e.message).toContain("TLS error");
    expect(e.message).toContain("VAULT_CACERT");
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("VAULT_SKIP_VERIFY only when set", async () => {
    const { src } = await fetchWith({ VAULT_ADDR: tv.url, VAULT_TOKEN: tv.rootToken, VAULT_SKIP_VERIFY: "true", VAULT_CLIENT_CERT: pki.clientCertFile, VAULT_CLIENT_KEY: pki.clientKeyFile }, ["vault://secret/tls"]);
    sources.push(src);
    const e = await failure(fetchWith({ VAULT_ADDR: tv.url, VAULT_TOKEN: tv.rootToken, VAULT_CLIENT_CERT: pki.clientCertFile, VAULT_CLIENT_KEY: pki.clientKeyFile }, ["vault://secret/tls"]));
    expect(e.message).toContain("TLS error");
  });
});

describe("policy", () => {
  it("a reference outside the allow-list fails closed before the read, naming the rule", async () => {
    const pf = join(tmp, "policy.yaml");
    writeFileSync(pf, "policy:\n  allow:\n    vault: ['secret/data/payments/*']\n");
    const before = v.count((r) => r.path === "/v1/secret/data/app");
    const e = await failure(fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/app"], { policy: pf }));
    expect(e.exitCode).toBe(77);
    expect(e.message).toContain("secret/data/payments/*");
    expect(e.message).toContain(pf);
    expect(v.count((r) => r.path === "/v1/secret/data/app")).toBe(before);
    v.namespace("").kvPut("secret", "payments/stripe", { key: "sk-payments-value" });
    resetPolicies();
    const { src, got } = await fetchWith({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/payments/stripe#key"], { policy: pf });
    sources.push(src);
    expect(got).toHaveLength(1);
  });
});
