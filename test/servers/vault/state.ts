/**
 * The state of one Vault namespace in the test server: tokens with TTLs, policies, secret
 * engine mounts (KV v1, KV v2, database-style dynamic credentials), auth methods (AppRole,
 * Kubernetes, JWT) and leases. Administrative helpers (put a secret, create a token, add a
 * role) bypass the ACL, as an operator's root token would; the HTTP side enforces it.
 */
import { randomBytes, randomUUID, type KeyObject } from "node:crypto";
import type { Policy } from "./acl.ts";

export interface Token {
  id: string;
  accessor: string;
  policies: string[];
  /** Seconds granted at creation or last renewal. */
  creationTtl: number;
  /** Absolute expiry (ms) or 0 for none (root). */
  expiresAt: number;
  /** Hard cap (ms since epoch) for renewals, 0 for none. */
  maxExpiresAt: number;
  renewable: boolean;
  issuedAt: number;
  path: string;
  meta: Record<string, string> | null;
  leaseIds: Set<string>;
  /** Remaining uses; 0 = unlimited. */
  numUses: number;
}

export interface KvVersion {
  data: Record<string, unknown> | null;
  created: string;
  deletionTime: string;
  destroyed: boolean;
}

export interface KvV2Secret {
  versions: Map<number, KvVersion>;
  current: number;
  oldest: number;
  created: string;
  updated: string;
  maxVersions: number;
  customMetadata: Record<string, string> | null;
}

export type Mount =
  | { type: "kv"; version: 1; path: string; v1: Map<string, Record<string, unknown>> }
  | { type: "kv"; version: 2; path: string; v2: Map<string, KvV2Secret> }
  | { type: "database"; path: string; roles: Map<string, { defaultTtl: number; maxTtl: number }> };

export interface Lease {
  id: string;
  tokenId: string;
  durationSec: number;
  renewable: boolean;
  issuedAt: number;
  expiresAt: number;
  maxExpiresAt: number;
  renewals: number;
  revoked: boolean;
}

export interface AppRole {
  roleId: string;
  policies: string[];
  tokenTtl: number;
  tokenMaxTtl: number;
  secretIds: Map<string, { usesLeft: number }>;
  secretIdNumUses: number;
}

export interface JwtRole {
  policies: string[];
  ttl: number;
  maxTtl: number;
  /** Kubernetes: bound service account names/namespaces; JWT: bound audiences/subject. */
  boundServiceAccountNames?: string[];
  boundServiceAccountNamespaces?: string[];
  boundAudiences?: string[];
  boundSubject?: string;
}

export type AuthMount =
  | { type: "approle"; roles: Map<string, AppRole> }
  | { type: "kubernetes"; key?: KeyObject; roles: Map<string, JwtRole> }
  | { type: "jwt"; key?: KeyObject; roles: Map<string, JwtRole> };

const nowIso = () => new Date().toISOString();

export class Namespace {
  readonly tokens = new Map<string, Token>();
  readonly policies = new Map<string, Policy>();
  readonly mounts = new Map<string, Mount>();
  readonly auth = new Map<string, AuthMount>();
  readonly leases = new Map<string, Lease>();

  readonly name: string;

  constructor(name: string) {
    this.name = name;
    // Vault's built-in default policy, reduced to what clients of this server touch. It does
    // not include sys/leases/revoke: revoking a lease needs an explicit grant.
    this.policies.set("default", [
      { path: "auth/token/lookup-self", capabilities: ["read"] },
      { path: "auth/token/renew-self", capabilities: ["update"] },
      { path: "auth/token/revoke-self", capabilities: ["update"] },
      { path: "sys/leases/renew", capabilities: ["update"] },
      { path: "sys/leases/lookup", capabilities: ["update"] },
      { path: "sys/wrapping/unwrap", capabilities: ["update"] },
    ]);
    this.auth.set("approle", { type: "approle", roles: new Map() });
    this.auth.set("kubernetes", { type: "kubernetes", roles: new Map() });
    this.auth.set("jwt", { type: "jwt", roles: new Map() });
  }

  mountKv(path: string, version: 1 | 2): void {
    const p = path.replace(/\/?$/, "/");
    this.mounts.set(p, version === 1 ? { type: "kv", version: 1, path: p, v1: new Map() } : { type: "kv", version: 2, path: p, v2: new Map() });
  }

  mountDatabase(path: string, roles: Record<string, { defaultTtl: number; maxTtl: number }>): void {
    const p = path.replace(/\/?$/, "/");
    this.mounts.set(p, { type: "database", path: p, roles: new Map(Object.entries(roles)) });
  }

  enableAuth(mount: string, type: AuthMount["type"]): void {
    this.auth.set(mount, type === "approle" ? { type, roles: new Map() } : { type, roles: new Map() });
  }

  putPolicy(name: string, rules: Policy): void {
    this.policies.set(name, rules);
  }

  /** The mount whose path is the longest prefix of `path`. */
  mountFor(path: string): Mount | undefined {
    let best: Mount | undefined;
    for (const [p, m] of this.mounts) if ((path + "/").startsWith(p) && (!best || p.length > best.path.length)) best = m;
    return best;
  }

  createToken(o: { policies: string[]; ttl?: number; maxTtl?: number; renewable?: boolean; path?: string; numUses?: number; id?: string }): Token {
    const now = Date.now();
    const ttl = o.ttl ?? 0;
    const t: Token = {
      id: o.id ?? `hvs.${randomBytes(18).toString("base64url")}`,
      accessor: randomBytes(12).toString("base64url"),
      // Vault attaches the default policy to every token but root's unless told otherwise.
      policies: o.policies.includes("root") || o.policies.includes("default") ? o.policies : ["default", ...o.policies],
      creationTtl: ttl,
      expiresAt: ttl > 0 ? now + ttl * 1000 : 0,
      maxExpiresAt: o.maxTtl ? now + o.maxTtl * 1000 : 0,
      renewable: o.renewable ?? ttl > 0,
      issuedAt: now,
      path: o.path ?? "auth/token/create",
      meta: null,
      leaseIds: new Set(),
      numUses: o.numUses ?? 0,
    };
    this.tokens.set(t.id, t);
    return t;
  }

  /** A live token, or undefined when unknown, revoked or expired (Vault treats all three the same). */
  liveToken(id: string | undefined): Token | undefined {
    if (!id) return undefined;
    const t = this.tokens.get(id);
    if (!t) return undefined;
    if (t.expiresAt && Date.now() > t.expiresAt) {
      this.revokeToken(t);
      return undefined;
    }
    return t;
  }

  revokeToken(t: Token): void {
    this.tokens.delete(t.id);
    for (const id of t.leaseIds) {
      const l = this.leases.get(id);
      if (l) l.revoked = true;
    }
  }

  // ---- administrative helpers (an operator with a root token) ----

  kvPut(mountPath: string, path: string, data: Record<string, unknown>): number {
    const m = this.mounts.get(mountPath.replace(/\/?$/, "/"));
    if (!m || m.type !== "kv") throw new Error(`no kv mount at ${mountPath}`);
    if (m.version === 1) {
      m.v1.set(path, data);
      return 0;
    }
    return kv2Write(m.v2, path, data);
  }

  kvDelete(mountPath: string, path: string, versions: number[], how: "delete" | "destroy"): void {
    const m = this.mounts.get(mountPath.replace(/\/?$/, "/"));
    if (!m || m.type !== "kv" || m.version !== 2) throw new Error(`no kv v2 mount at ${mountPath}`);
    const s = m.v2.get(path);
    if (!s) return;
    for (const v of versions) {
      const ver = s.versions.get(v);
      if (!ver) continue;
      if (how === "delete") ver.deletionTime = nowIso();
      else {
        ver.destroyed = true;
        ver.data = null;
      }
    }
  }

  addAppRole(name: string, o: { policies: string[]; tokenTtl?: number; tokenMaxTtl?: number; secretIdNumUses?: number; mount?: string }): { roleId: string } {
    const a = this.auth.get(o.mount ?? "approle");
    if (!a || a.type !== "approle") throw new Error("no approle mount");
    const roleId = randomUUID();
    a.roles.set(name, { roleId, policies: o.policies, tokenTtl: o.tokenTtl ?? 3600, tokenMaxTtl: o.tokenMaxTtl ?? 0, secretIds: new Map(), secretIdNumUses: o.secretIdNumUses ?? 0 });
    return { roleId };
  }

  newSecretId(role: string, mount = "approle"): string {
    const a = this.auth.get(mount);
    if (!a || a.type !== "approle") throw new Error("no approle mount");
    const r = a.roles.get(role);
    if (!r) throw new Error(`no role ${role}`);
    const id = randomUUID();
    r.secretIds.set(id, { usesLeft: r.secretIdNumUses });
    return id;
  }

  addJwtRole(mount: string, name: string, role: JwtRole, key?: KeyObject): void {
    const a = this.auth.get(mount);
    if (!a || a.type === "approle") throw new Error(`no jwt/kubernetes mount at ${mount}`);
    a.roles.set(name, role);
    if (key) a.key = key;
  }

  newLease(tokenId: string, path: string, durationSec: number, maxSec: number): Lease {
    const now = Date.now();
    const l: Lease = {
      id: `${path}/${randomBytes(12).toString("base64url")}`,
      tokenId,
      durationSec,
      renewable: true,
      issuedAt: now,
      expiresAt: now + durationSec * 1000,
      maxExpiresAt: now + maxSec * 1000,
      renewals: 0,
      revoked: false,
    };
    this.leases.set(l.id, l);
    this.tokens.get(tokenId)?.leaseIds.add(l.id);
    return l;
  }
}

export function kv2Write(store: Map<string, KvV2Secret>, path: string, data: Record<string, unknown>): number {
  const now = nowIso();
  let s = store.get(path);
  if (!s) {
    s = { versions: new Map(), current: 0, oldest: 1, created: now, updated: now, maxVersions: 0, customMetadata: null };
    store.set(path, s);
  }
  s.current += 1;
  s.updated = now;
  s.versions.set(s.current, { data, created: now, deletionTime: "", destroyed: false });
  const max = s.maxVersions || 10;
  while (s.versions.size > max) {
    s.versions.delete(s.oldest);
    s.oldest += 1;
  }
  return s.current;
}

export function kv2Metadata(s: KvV2Secret, v: number): Record<string, unknown> {
  const ver = s.versions.get(v)!;
  return { created_time: ver.created, custom_metadata: s.customMetadata, deletion_time: ver.deletionTime, destroyed: ver.destroyed, version: v };
}

export function parseTtl(v: unknown): number | null {
  if (v === undefined || v === null || v === "") return 0;
  if (typeof v === "number") return Math.floor(v);
  const m = /^(\d+)(s|m|h)?$/.exec(String(v));
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : n;
}
