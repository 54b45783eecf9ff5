import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveVaultOptions } from "../../../../src/sources/vault/options.ts";
import { registerVaultFlags } from "../../../../src/sources/vault/flags.ts";
import { Settings } from "../../../../src/config/settings.ts";
import { Logger } from "../../../../src/log/logger.ts";
import { isLatchkeyError } from "../../../../src/errors.ts";
import { apiPath, checkParams } from "../../../../src/sources/vault/read.ts";
import { parseReference } from "../../../../src/sources/source.ts";

registerVaultFlags();
const log = new Logger(-1);
log.level = "silent";
const dir = mkdtempSync(join(tmpdir(), "lk-vault-opts-"));
const opts = (env: Record<string, string>, flags: Record<string, string | boolean> = {}, section: Record<string, string | boolean> = {}) =>
  resolveVaultOptions(new Settings({ flags, env }), env, log, section);
const err = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(isLatchkeyError(e)).toBe(true);
    return e as Error & { exitCode: number };
  }
  throw new Error("expected an error");
};

describe("vault options", () => {
  it("precedence: flag > LATCHKEY_VAULT_* > VAULT_* > config section > default", () => {
    expect(opts({}).addr).toBe("https://127.0.0.1:8200");
    expect(opts({}, {}, { "vault-addr": "http://cfg:1" }).addr).toBe("http://cfg:1");
    expect(opts({ VAULT_ADDR: "http://std:1" }, {}, { "vault-addr": "http://cfg:1" }).addr).toBe("http://std:1");
    expect(opts({ VAULT_ADDR: "http://std:1", LATCHKEY_VAULT_ADDR: "http://lk:1" }).addr).toBe("http://lk:1");
    expect(opts({ LATCHKEY_VAULT_ADDR: "http://lk:1" }, { "vault-addr": "http://flag:1" }).addr).toBe("http://flag:1");
  });

  it("auth method is inferred from what is given", () => {
    expect(opts({ VAULT_TOKEN: "t" }).auth?.method).toBe("token");
    expect(opts({ VAULT_ROLE_ID: "r", VAULT_SECRET_ID: "s" }).auth).toMatchObject({ method: "approle", mount: "approle", roleId: "r", secretId: "s" });
    expect(opts({ VAULT_ROLE: "web" }).auth).toMatchObject({ method: "kubernetes", jwtFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
    writeFileSync(join(dir, "jwt"), "x.y.z");
    expect(opts({ VAULT_ROLE: "ci" }, { "vault-jwt-file": join(dir, "jwt"), "vault-auth-mount": "/oidc/" }).auth).toMatchObject({ method: "jwt", mount: "oidc" });
    expect(opts({ HOME: dir }).auth).toBeNull();
    writeFileSync(join(dir, ".vault-token"), "from-helper\n");
    expect(opts({ HOME: dir }).auth).toMatchObject({ method: "token", token: "from-helper" });
  });

  it("bad values name their origin; flags exit 64, env/config 78", () => {
    const a = err(() => opts({}, { "vault-auth": "ldap" }));
    expect(a.message).toContain("--vault-auth");
    expect(a.exitCode).toBe(64);
    const b = err(() => opts({ VAULT_ADDR: "ftp://x" }));
    expect(b.message).toContain("VAULT_ADDR");
    expect(b.exitCode).toBe(78);
    expect(err(() => opts({ LATCHKEY_VAULT_CONCURRENCY: "0" })).message).toContain("LATCHKEY_VAULT_CONCURRENCY");
    expect(err(() => opts({ VAULT_SKIP_VERIFY: "maybe" })).message).toContain("VAULT_SKIP_VERIFY");
    expect(err(() => opts({ VAULT_CACERT: join(dir, "missing.pem") })).message).toContain("missing.pem");
    expect(err(() => opts({ VAULT_CLIENT_CERT: join(dir, "jwt") })).message).toContain("both");
    expect(err(() => opts({ VAULT_ROLE: "x" }, { "vault-auth": "jwt" })).message).toContain("--vault-jwt-file");
  });

  it("VAULT_SKIP_VERIFY only when set to a true value", () => {
    expect(opts({}).tls.skipVerify).toBe(false);
    expect(opts({ VAULT_SKIP_VERIFY: "false" }).tls.skipVerify).toBe(false);
    expect(opts({ VAULT_SKIP_VERIFY: "1" }).tls.skipVerify).toBe(true);
  });
});

describe("KV paths", () => {
  const ref = (s: string) => parseReference(s, "T", { checkScheme: false })!;
  const v2 = { path: "secret/", type: "kv", kv: 2 as const };
  const v1 = { path: "kv/", type: "kv", kv: 1 as const };
  it("KV v2 gets data/ inserted once; KV v1 and other engines are read as written", () => {
    expect(apiPath(ref("vault://secret/app"), "secret/app", v2)).toBe("secret/data/app");
    expect(apiPath(ref("vault://secret/data/app"), "secret/data/app", v2)).toBe("secret/data/app");
    expect(apiPath(ref("vault://kv/app"), "kv/app", v1)).toBe("kv/app");
    expect(() => apiPath(ref("vault://secret/metadata/app"), "secret/metadata/app", v2)).toThrow(/metadata/);
  });
  it("?version is a positive integer on KV v2 only; unknown parameters are refused", () => {
    expect(checkParams(ref("vault://secret/app?version=3"), v2)).toBe(3);
    expect(() => checkParams(ref("vault://secret/app?version=0"), v2)).toThrow(/invalid version/);
    expect(() => checkParams(ref("vault://kv/app?version=2"), v1)).toThrow(/KV v1/);
    expect(() => checkParams(ref("vault://secret/app?ver=2"), v2)).toThrow(/unknown parameter 'ver'/);
  });
});

describe("no input crashes the path mapping (property)", () => {
  it("apiPath/checkParams either return or throw a LatchkeyError naming the reference", async () => {
    const fc = (await import("fast-check")).default;
    const mounts = [{ path: "secret/", type: "kv", kv: 2 as const }, { path: "kv/", type: "kv", kv: 1 as const }, { path: "database/", type: "database", kv: 0 as const }];
    fc.assert(fc.property(fc.string(), fc.string(), fc.constantFrom(...mounts), (rest, version, m) => {
      const raw = `vault://${m.path}${encodeURIComponent(rest)}?version=${encodeURIComponent(version)}`;
      const ref = parseReference(raw, "T", { checkScheme: false })!;
      try {
        checkParams(ref, m);
        const api = apiPath(ref, `${m.path}${rest}`, m);
        expect(api.startsWith(m.path)).toBe(true);
      } catch (e) {
        expect(isLatchkeyError(e)).toBe(true);
        expect((e as Error).message).toContain(raw);
      }
    }));
  });
});
