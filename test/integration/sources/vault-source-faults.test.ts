/**
 * The vault:// source in-process against the hand-written test Vault server, for what a real
 * server cannot produce on demand here: Kubernetes login (needs a Kubernetes API server for
 * TokenReview), a standby node with no active node, sealed for an exact time inside one
 * startup deadline, TLS with a required client certificate and a server name to verify.
 * Everything else runs against OpenBao (vault-source.test.ts).
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

describe("auth methods the real server cannot run here", () => {
  // OpenBao's kubernetes method checks the JWT with a Kubernetes API server (TokenReview).
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

