/**
 * The real-server test infrastructure works: OpenBao dev with its audit log (every request
 * counted), OpenBao on raft (seal, unseal, restart), PostgreSQL behind the database engine.
 * If one of these fails, the vault:// tests that use it prove nothing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startOpenBao, type OpenBao } from "../../servers/openbao.ts";
import { mountDatabase, startPostgres, type Postgres } from "../../servers/postgres.ts";

const started: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

describe("test servers", () => {
  it("OpenBao dev: KV v2 at secret/, audit log separates the tests' admin calls", async () => {
    const b = await startOpenBao();
    started.push(b);
    expect(await b.kvPut("x", { k: "v" })).toBe(1);
    const r = await fetch(`${b.url}/v1/secret/data/x`, { headers: { "x-vault-token": b.rootToken } });
    expect(r.status).toBe(200);
    const denied = await fetch(`${b.url}/v1/secret/data/x`, { headers: { "x-vault-token": "nope" } });
    expect(denied.status).toBe(403);
    await new Promise((res) => setTimeout(res, 100));
    expect(b.count((e) => e.path === "secret/data/x")).toBe(2);
    expect(b.count((e) => e.path === "secret/data/x" && e.error !== undefined)).toBe(1);
    expect(b.requests().filter((e) => e.admin && e.path === "secret/data/x")).toHaveLength(1);
  });

  it("OpenBao raft: sealed answers 503, unseal and restart bring it back with its data", async () => {
    const b = await startOpenBao({ raft: true });
    started.push(b);
    await b.kvPut("r", { k: "kept" });
    await b.seal();
    expect((await b.api("GET", "secret/data/r")).status).toBe(503);
    await b.unseal();
    expect((await b.api("GET", "secret/data/r")).body!.data.data.k).toBe("kept");
    await b.restart();
    expect((await b.api("GET", "secret/data/r")).body!.data.data.k).toBe("kept");
  });

  it("PostgreSQL behind the database engine: credentials log in, revocation drops the role", async () => {
    const [b, pg]: [OpenBao, Postgres] = await Promise.all([startOpenBao(), startPostgres()]);
    started.push(b, pg);
    await mountDatabase(b, pg, "database", { app: { ttl: 60, maxTtl: 120 } });
    const c = (await b.must("GET", "database/creds/app"))!;
    expect(pg.canLogin(c.data.username, c.data.password)).toBe(true);
    await b.must("PUT", "sys/leases/revoke", { lease_id: c.lease_id });
    expect(pg.roleExists(c.data.username)).toBe(false);
  });
});
