/**
 * The test Vault server must reject what Vault rejects; otherwise the vault:// tests prove
 * nothing. Raw HTTP against it, checked against Vault's documented status codes and bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestVault } from "../../servers/vault/server.ts";

let v: TestVault;
beforeAll(async () => {
  v = await new TestVault().start();
  v.namespace("").kvPut("secret", "app", { k: "server-test-value" });
  v.namespace("").putPolicy("ro", [{ path: "secret/data/app", capabilities: ["read"] }]);
});
afterAll(async () => {
  await v.stop();
});

async function call(method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const r = await fetch(`${v.url}/v1/${path}`, {
    method,
    headers: { ...(o.token ? { "x-vault-token": o.token } : {}), ...(o.headers ?? {}) },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
}

describe("the test Vault server behaves like Vault", () => {
  it("no token, a bad token, a revoked token: 403 permission denied", async () => {
    expect(await call("GET", "secret/data/app")).toEqual({ status: 403, body: { errors: ["permission denied"] } });
    expect((await call("GET", "secret/data/app", { token: "hvs.bogus" })).status).toBe(403);
    const t = v.namespace("").createToken({ policies: ["ro"], ttl: 60 });
    expect((await call("POST", "auth/token/revoke-self", { token: t.id })).status).toBe(204);
    expect((await call("GET", "secret/data/app", { token: t.id })).status).toBe(403);
  });

  it("an expired token is refused", async () => {
    const t = v.namespace("").createToken({ policies: ["ro"], ttl: 1 });
    expect((await call("GET", "secret/data/app", { token: t.id })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1300));
    expect((await call("GET", "secret/data/app", { token: t.id })).status).toBe(403);
  });

  it("policies: a path not granted is 403 with Vault's multierror text", async () => {
    const t = v.namespace("").createToken({ policies: ["ro"], ttl: 60 });
    const r = await call("GET", "secret/data/other", { token: t.id });
    expect(r.status).toBe(403);
    expect(r.body!.errors[0]).toContain("permission denied");
    expect((await call("POST", "secret/data/app", { token: t.id, body: { data: { k: "x" } } })).status).toBe(403);
  });

  it("KV v2: missing is 404 with empty errors; the bare path is 404 with Vault's warning; cas mismatch is 400", async () => {
    expect(await call("GET", "secret/data/nope", { token: v.rootToken })).toEqual({ status: 404, body: { errors: [] } });
    const bare = await call("GET", "secret/app", { token: v.rootToken });
    expect(bare.status).toBe(404);
    expect(bare.body!.warnings[0]).toContain("Invalid path for a versioned K/V secrets engine");
    const cas = await call("POST", "secret/data/app", { token: v.rootToken, body: { data: { k: "y" }, options: { cas: 99 } } });
    expect(cas.status).toBe(400);
    expect(cas.body!.errors[0]).toContain("check-and-set");
  });

  it("KV v2: delete, undelete, destroy, metadata", async () => {
    const w = await call("POST", "secret/data/cycle", { token: v.rootToken, body: { data: { a: "1" } } });
    expect(w.body!.data.version).toBe(1);
    await call("POST", "secret/data/cycle", { token: v.rootToken, body: { data: { a: "2" } } });
    expect((await call("DELETE", "secret/data/cycle", { token: v.rootToken })).status).toBe(204);
    const del = await call("GET", "secret/data/cycle", { token: v.rootToken });
    expect(del.status).toBe(404);
    expect(del.body!.data.metadata.deletion_time).not.toBe("");
    await call("POST", "secret/undelete/cycle", { token: v.rootToken, body: { versions: [2] } });
    expect((await call("GET", "secret/data/cycle", { token: v.rootToken })).body!.data.data).toEqual({ a: "2" });
    await call("POST", "secret/destroy/cycle", { token: v.rootToken, body: { versions: [1] } });
    const d1 = await call("GET", "secret/data/cycle?version=1", { token: v.rootToken });
    expect(d1.status).toBe(404);
    expect(d1.body!.data.metadata.destroyed).toBe(true);
    const meta = await call("GET", "secret/metadata/cycle", { token: v.rootToken });
    expect(meta.body!.data.current_version).toBe(2);
    expect(meta.body!.data.versions["1"].destroyed).toBe(true);
    // Node's HTTP parser refuses the LIST verb; Vault accepts GET ?list=true as the same request.
    const list = await call("GET", "secret/metadata/?list=true", { token: v.rootToken });
    expect(list.body!.data.keys).toContain("cycle");
  });

  it("sealed: 503 'Vault is sealed' except health and seal-status; standby: 503, health 429", async () => {
    v.sealed = true;
    try {
      expect(await call("GET", "secret/data/app", { token: v.rootToken })).toEqual({ status: 503, body: { errors: ["Vault is sealed"] } });
      expect((await call("GET", "sys/health")).status).toBe(503);
      expect((await call("GET", "sys/seal-status")).body!.sealed).toBe(true);
    } finally {
      v.sealed = false;
    }
    v.standby = true;
    try {
      expect((await call("GET", "secret/data/app", { token: v.rootToken })).status).toBe(503);
      expect((await call("GET", "sys/health")).status).toBe(429);
    } finally {
      v.standby = false;
    }
  });

  it("response wrapping: unwrap works once", async () => {
    const w = await call("GET", "secret/data/app", { token: v.rootToken, headers: { "x-vault-wrap-ttl": "60" } });
    const wt = w.body!.wrap_info.token as string;
    const u = await call("POST", "sys/wrapping/unwrap", { token: wt });
    expect(u.body!.data.data.k).toBe("server-test-value");
    expect(await call("POST", "sys/wrapping/unwrap", { token: wt })).toEqual({ status: 400, body: { errors: ["wrapping token is not valid or does not exist"] } });
  });

  it("AppRole: wrong secret_id is 400 'invalid role or secret ID'; token TTL capped at max on renew", async () => {
    const ns = v.namespace("");
    const { roleId } = ns.addAppRole("srv", { policies: ["ro"], tokenTtl: 10, tokenMaxTtl: 15 });
    expect(await call("POST", "auth/approle/login", { body: { role_id: roleId, secret_id: "nope" } })).toEqual({ status: 400, body: { errors: ["invalid role or secret ID"] } });
    const ok = await call("POST", "auth/approle/login", { body: { role_id: roleId, secret_id: ns.newSecretId("srv") } });
    const tok = ok.body!.auth.client_token as string;
    expect(ok.body!.auth.lease_duration).toBe(10);
    const renewed = await call("POST", "auth/token/renew-self", { token: tok, body: { increment: "1h" } });
    expect(renewed.body!.auth.lease_duration).toBeLessThanOrEqual(15);
    expect(renewed.body!.warnings[0]).toContain("max_ttl");
  });

  it("leases: revoking the token revokes its leases; renew after revoke is 400", async () => {
    const ns = v.namespace("");
    ns.mountDatabase("db", { app: { defaultTtl: 60, maxTtl: 120 } });
    const t = ns.createToken({ policies: ["root"], ttl: 60 });
    const c = await call("GET", "db/creds/app", { token: t.id });
    expect(c.body!.renewable).toBe(true);
    await call("POST", "auth/token/revoke-self", { token: t.id });
    expect(ns.leases.get(c.body!.lease_id)!.revoked).toBe(true);
    expect((await call("PUT", "sys/leases/renew", { token: v.rootToken, body: { lease_id: c.body!.lease_id } })).status).toBe(400);
  });

  it("namespaces: an unknown namespace and a token from another namespace are refused", async () => {
    expect((await call("GET", "secret/data/app", { token: v.rootToken, headers: { "x-vault-namespace": "nope" } })).status).toBe(403);
    v.namespace("ns1");
    expect((await call("GET", "secret/data/app", { token: v.rootToken, headers: { "x-vault-namespace": "ns1" } })).status).toBe(403);
  });

  it("mount preflight: KV version and type from sys/internal/ui/mounts; nothing mounted is 403", async () => {
    const m = await call("GET", "sys/internal/ui/mounts/secret/app", { token: v.rootToken });
    expect(m.body!.data).toMatchObject({ path: "secret/", type: "kv", options: { version: "2" } });
    expect((await call("GET", "sys/internal/ui/mounts/nothing/here", { token: v.rootToken })).status).toBe(403);
  });
});
