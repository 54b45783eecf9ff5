/**
 * The long-running lifecycle of the vault:// source against a real OpenBao (issue #13): token
 * and lease timers past Node's timer limit, re-login with a wrapped or rotated secret_id, a
 * token file rewritten by a Vault Agent sink, an expired token told apart from a missing
 * grant, write-only endpoints, a secret recreated at the same version number, outages, and
 * OpenBao's own BAO_* variables. Requests are counted from OpenBao's audit log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpenBao, type OpenBao } from "../../servers/openbao.ts";
import { mountDatabase, startPostgres, type Postgres } from "../../servers/postgres.ts";
import { createVaultSource, type VaultSource } from "../../../src/sources/vault/index.ts";
import { parseReference, registerScheme, type Reference } from "../../../src/sources/source.ts";
import { Settings } from "../../../src/config/settings.ts";
import { Logger } from "../../../src/log/logger.ts";
import { isLatchkeyError, LatchkeyError } from "../../../src/errors.ts";
import { registerVaultFlags } from "../../../src/sources/vault/flags.ts";
import { registerPolicyFlags } from "../../../src/policy/flags.ts";

registerVaultFlags();
registerPolicyFlags();
registerScheme("vault", () => createVaultSource());

/** Collects warnings (names and messages only; the source never logs values). */
const warnings: string[] = [];
const log = new Logger(-1);
log.level = "silent";
const origWarn = log.warn.bind(log);
log.warn = (msg: string, fields?: Parameters<Logger["warn"]>[1]) => {
  warnings.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  origWarn(msg, fields);
};
const tmp = mkdtempSync(join(tmpdir(), "latchkey-vault-life-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(50)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

function ref(s: string): Reference {
  return parseReference(s, "TEST")!;
}

function ctx(env: Record<string, string>, flags: Record<string, string | boolean> = {}, deadlineMs = 10_000) {
  return { log, deadline: Date.now() + deadlineMs, signal: new AbortController().signal, settings: new Settings({ flags, env }) };
}

async function open(env: Record<string, string>, refs: string[], flags: Record<string, string | boolean> = {}) {
  const src = createVaultSource(env);
  sources.push(src);
  const got = await src.fetch(refs.map(ref), ctx(env, flags));
  return { src, got };
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
  await mountDatabase(v, pg, "database", { long: { ttl: 1440 * 3600, maxTtl: 2000 * 3600 } });
  await v.kvPut("app", { api_key: "life-key-1" });
  await v.kvPut("other", { x: "life-other-1" });
  await v.policy("app-read", [
    'path "secret/data/app" { capabilities = ["read"] }',
    'path "secret/metadata/app" { capabilities = ["read"] }',
    'path "secret/data/other" { capabilities = ["read"] }',
    'path "database/creds/*" { capabilities = ["read"] }',
  ].join("\n"));
}, 60_000);
afterAll(async () => {
  await Promise.all([v?.stop(), pg?.stop()]);
});
afterEach(async () => {
  warnings.length = 0;
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

describe("timers past Node's 2^31-1 ms limit (#1)", () => {
  it("a 60-day token and a 60-day lease are not renewed in a loop", async () => {
    const t = await v.token({ policies: ["app-read"], ttl: "1440h" });
    const renewSelf = v.count((e) => e.path === "auth/token/renew-self");
    const renewLease = v.count((e) => e.path === "sys/leases/renew");
    await open({ VAULT_ADDR: v.url, VAULT_TOKEN: t }, ["vault://secret/app", "vault://database/creds/long#username"], { "vault-keep-leases": true });
    await sleep(1500);
    expect(v.count((e) => e.path === "auth/token/renew-self") - renewSelf).toBe(0);
    expect(v.count((e) => e.path === "sys/leases/renew") - renewLease).toBe(0);
  });
});

describe("re-login (#3)", () => {
  it("a wrapped secret_id is unwrapped once; re-logins use the unwrapped secret_id without a false alarm", { timeout: 20_000 }, async () => {
    const roleId = await v.appRole("wrapped-short", { token_policies: ["app-read"], token_ttl: "2s", token_max_ttl: "2s" });
    writeFileSync(join(tmp, "wrapped"), await v.secretId("wrapped-short", "5m"));
    const unwraps = v.count((e) => e.path === "sys/wrapping/unwrap");
    const { src } = await open({ VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId }, ["vault://secret/app"], { "vault-secret-id-file": join(tmp, "wrapped"), "vault-secret-id-wrapped": true });
    await until(() => src.tokens!.logins >= 2, "two re-logins");
    expect(v.count((e) => e.path === "sys/wrapping/unwrap") - unwraps).toBe(1);
    expect(warnings.join("\n")).not.toMatch(/compromised/);
    await v.kvPut("app", { api_key: "life-key-2" });
    const again = await src.fetch([ref("vault://secret/app")], ctx({ VAULT_ADDR: v.url }));
    expect(JSON.parse(again[0]!.value.toString()).api_key).toBe("life-key-2");
  });

  it("the secret_id file is read again at each login (a single-use secret_id replaced by the orchestrator)", { timeout: 20_000 }, async () => {
    const roleId = await v.appRole("single-use", { token_policies: ["app-read"], token_ttl: "2s", token_max_ttl: "2s", secret_id_num_uses: 1 });
    const file = join(tmp, "single-use");
    writeFileSync(file, await v.secretId("single-use"));
    const { src } = await open({ VAULT_ADDR: v.url, VAULT_ROLE_ID: roleId }, ["vault://secret/app"], { "vault-secret-id-file": file });
    writeFileSync(file, await v.secretId("single-use"));
    await until(() => src.tokens!.logins >= 1, "a re-login with the second secret_id");
    writeFileSync(file, await v.secretId("single-use"));
    await until(() => src.tokens!.logins >= 2, "a re-login with the third secret_id");
    expect((await v.api("GET", "auth/token/lookup-self", undefined, src.client!.token)).status).toBe(200);
  });
});

describe("--vault-token-file is read again (#4)", () => {
  it("a token rotated by a Vault Agent sink is picked up before the old one expires", { timeout: 20_000 }, async () => {
    const file = join(tmp, "sink");
    writeFileSync(file, await v.token({ policies: ["app-read"], ttl: "3s", explicit_max_ttl: "3s" }));
    const { src } = await open({ VAULT_ADDR: v.url }, ["vault://secret/app"], { "vault-token-file": file });
    const next = await v.token({ policies: ["app-read"], ttl: "1h" });
    writeFileSync(file, next);
    await sleep(4000); // the first token is gone
    const got = await src.fetch([ref("vault://secret/data/other")], ctx({ VAULT_ADDR: v.url }, { "vault-token-file": file }));
    expect(JSON.parse(got[0]!.value.toString()).x).toBe("life-other-1");
    expect(src.client!.token === next).toBe(true);
  });
});

describe("errors that say what happened (#5, #12)", () => {
  it("a revoked token is reported as such, not as a missing grant", async () => {
    const t = await v.token({ policies: ["app-read"], ttl: "1h" });
    const { src } = await open({ VAULT_ADDR: v.url, VAULT_TOKEN: t }, ["vault://secret/app"]);
    await v.must("POST", "auth/token/revoke", { token: t });
    const e = await failure(src.fetch([ref("vault://secret/data/other")], ctx({ VAULT_ADDR: v.url, VAULT_TOKEN: t })));
    expect(e.exitCode).toBe(77);
    expect(e.message).toMatch(/token .*(expired or (was )?revoked|no longer valid)/);
    expect(e.message).not.toMatch(/do not grant/);
    expect(e.message).not.toContain(t);
  });

  it("a write-only endpoint (405) is a configuration error (78), not a temporary one", async () => {
    const e = await failure(open({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://auth/token/create"]));
    expect(e.exitCode).toBe(78);
    expect(e.message).toContain("vault://auth/token/create");
    expect(e.message).toContain("405");
  });
});

describe("KV v2 changes the version number does not show (#6)", () => {
  it("a secret deleted (metadata) and written again at the same version number is a new version", async () => {
    await v.kvPut("recreated", { a: "recreated-one" });
    const { src, got } = await open({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }, ["vault://secret/recreated#a"]);
    await v.must("DELETE", "secret/metadata/recreated");
    await sleep(1100); // created_time has a resolution finer than this; a second apart is certain
    expect(await v.kvPut("recreated", { a: "recreated-two" })).toBe(1);
    const now = await src.versions([ref("vault://secret/recreated#a")], ctx({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken }));
    expect(now[0]).not.toBe(got[0]!.version);
  });
});

describe("outages (#7)", () => {
  it("after startup, a check against a sealed server fails at once naming the reference, not retried for 30 s", { timeout: 40_000 }, async () => {
    const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
    const { src } = await open(env, ["vault://secret/app"]);
    const before = src.client!.requests;
    await v.seal();
    try {
      const t0 = Date.now();
      const e = await failure(src.versions([ref("vault://secret/app")], ctx(env, {}, 30_000)));
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(src.client!.requests - before).toBeLessThanOrEqual(1);
      expect(e.exitCode).toBe(75);
      expect(e.message).toContain("vault://secret/app");
      expect(e.message).not.toContain("startup deadline");
    } finally {
      await v.unseal();
    }
  });

  it("token renewal during a seal: one request per attempt, backing off from 1 s (not a retry every <=2 s inside each)", { timeout: 30_000 }, async () => {
    const t = await v.token({ policies: ["app-read"], ttl: "6s" });
    const { src } = await open({ VAULT_ADDR: v.url, VAULT_TOKEN: t }, ["vault://secret/app"]);
    const before = src.client!.requests;
    await v.seal();
    try {
      // Renewal due at 4 s; attempts then at ~4, 5 and 7 s (the token is gone at 6 s: no more).
      await sleep(8000);
      expect(src.client!.requests - before).toBeGreaterThanOrEqual(1);
      expect(src.client!.requests - before).toBeLessThanOrEqual(3);
    } finally {
      await v.unseal();
    }
  });
});

describe("OpenBao's own variables (#10)", () => {
  it("BAO_ADDR and BAO_TOKEN work alone, and win over VAULT_ADDR/VAULT_TOKEN", async () => {
    const { got } = await open({ BAO_ADDR: v.url, BAO_TOKEN: v.rootToken }, ["vault://secret/app"]);
    expect(got).toHaveLength(1);
    const both = await open({ BAO_ADDR: v.url, BAO_TOKEN: v.rootToken, VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "not-this-one" }, ["vault://secret/app"]);
    expect(both.got).toHaveLength(1);
  });
});
