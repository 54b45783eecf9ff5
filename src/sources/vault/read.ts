/**
 * Reading one `vault://` reference. The mount and its KV version come from Vault itself
 * (sys/internal/ui/mounts/PATH, the preflight the Vault CLI does), never from the shape of the
 * path: `secret/app` on a KV v2 mount becomes `secret/data/app`; on KV v1 it is read as is;
 * on any other engine (database/creds/app, aws/creds/x, pki/...) it is a generic read whose
 * lease, if any, is returned for renewal.
 */
import { ExitCode, LatchkeyError } from "../../errors.ts";
import type { FetchedSecret, Reference } from "../source.ts";
import { VaultHttpError, type VaultClient } from "./client.ts";

export interface MountInfo {
  path: string;
  type: string;
  /** KV version (1 or 2); 0 for other engines. */
  kv: 0 | 1 | 2;
}

/** Mounts cannot nest in Vault, so a known mount path that prefixes a path is its mount. */
export class MountCache {
  readonly #known: MountInfo[] = [];
  readonly #pending = new Map<string, Promise<MountInfo>>();

  async lookup(c: VaultClient, path: string, deadline: number, policies: string[], ref: Reference): Promise<MountInfo> {
    const hit = this.#known.find((m) => (path + "/").startsWith(m.path));
    if (hit) return hit;
    const first = path.split("/")[0]!;
    const inflight = this.#pending.get(first);
    if (inflight) {
      const m = await inflight.catch(() => null);
      if (m && (path + "/").startsWith(m.path)) return m;
    }
    const p = this.#fetch(c, path, deadline, policies, ref);
    this.#pending.set(first, p);
    try {
      const m = await p;
      this.#known.push(m);
      return m;
    } finally {
      if (this.#pending.get(first) === p) this.#pending.delete(first);
    }
  }

  async #fetch(c: VaultClient, path: string, deadline: number, policies: string[], ref: Reference): Promise<MountInfo> {
    let r: Record<string, unknown> | null;
    try {
      r = await c.call("GET", `sys/internal/ui/mounts/${encodePath(path)}`, { deadline });
    } catch (e) {
      if (e instanceof VaultHttpError && e.status === 403 && !(await tokenValid(c, deadline))) throw tokenGone(ref);
      if (e instanceof VaultHttpError && (e.status === 403 || e.status === 400 || e.status === 404)) {
        throw new LatchkeyError("vault-denied", ExitCode.NO_PERM,
          `${ref.raw}: Vault found no secrets engine at '${path}' that this token may use (${e.status}): ` +
          `either nothing is mounted there or the token's policies (${policies.join(", ") || "none"}) grant nothing under it`);
      }
      throw e;
    }
    const d = (r?.data ?? {}) as { path?: string; type?: string; options?: { version?: string } | null };
    const type = d.type ?? "";
    const mpath = (d.path ?? "").replace(/^\/+/, "").replace(/\/?$/, "/");
    const kv = type === "kv" || type === "generic" ? (d.options?.version === "2" ? 2 : 1) : 0;
    return { path: mpath, type, kv };
  }
}

export function encodePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}

/** The API path a reference reads, once its mount is known. */
export function apiPath(ref: Reference, path: string, m: MountInfo): string {
  const rel = path.slice(m.path.length);
  if (m.kv === 2) {
    if (/^(metadata|delete|undelete|destroy)(\/|$)/.test(rel)) {
      throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: '${path}' is a KV v2 ${rel.split("/")[0]} path; read secrets through '${m.path}data/...' or '${m.path}...'`);
    }
    return rel.startsWith("data/") ? path : `${m.path}data/${rel}`;
  }
  return path;
}

export function checkParams(ref: Reference, m: MountInfo): number | undefined {
  for (const k of Object.keys(ref.params)) {
    if (k !== "version") throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: unknown parameter '${k}' (vault:// takes ?version=N on KV v2)`);
  }
  const v = ref.params.version;
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: invalid version '${v}': expected a positive integer`);
  if (m.kv !== 2) throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: ?version needs a KV v2 mount; '${m.path}' is ${m.kv === 1 ? "KV v1" : `a ${m.type} engine`}`);
  return Number(v);
}

/**
 * A 403 means either "not granted" or "this token is no longer valid" (expired, revoked):
 * Vault answers both alike. lookup-self (in Vault's default policy) tells them apart.
 */
export async function tokenValid(c: VaultClient, deadline: number): Promise<boolean> {
  try {
    await c.call("GET", "auth/token/lookup-self", { deadline, retry: false });
    return true;
  } catch (e) {
    return !(e instanceof VaultHttpError && e.status === 403);
  }
}

function tokenGone(ref: Reference): LatchkeyError {
  return new LatchkeyError("vault-auth", ExitCode.NO_PERM,
    `${ref.raw}: Vault refused latchkey's token (403) and refuses lookup-self too: the token expired or was revoked (not a missing grant)`);
}

/**
 * A KV v2 version as rotation compares it: the number and the time it was written. A path
 * whose metadata was deleted starts again at version 1, so the number alone would not show a
 * secret deleted and written again with a new value.
 */
export function kvVersion(n: number, createdTime: string | undefined): string {
  return createdTime ? `${n}@${createdTime}` : String(n);
}

export async function readSecret(c: VaultClient, ref: Reference, api: string, m: MountInfo, version: number | undefined, deadline: number, policies: string[]): Promise<FetchedSecret> {
  let r: Record<string, unknown> | null;
  try {
    r = await c.call("GET", `${encodePath(api)}${version ? `?version=${version}` : ""}`, { deadline });
  } catch (e) {
    if (e instanceof VaultHttpError && e.status === 403 && !(await tokenValid(c, deadline))) throw tokenGone(ref);
    throw explain(e, ref, api, version, policies);
  }
  if (m.kv === 2) {
    const d = (r?.data ?? {}) as { data?: Record<string, unknown> | null; metadata?: { version?: number; created_time?: string } };
    if (!d.data) throw new LatchkeyError("vault-missing", ExitCode.NO_INPUT, `${ref.raw}: '${api}' holds no data`);
    // A pinned ref's version is its pin (what versions() answers for it).
    const v = version !== undefined ? String(version) : d.metadata?.version !== undefined ? kvVersion(d.metadata.version, d.metadata.created_time) : undefined;
    return { ref, value: Buffer.from(JSON.stringify(d.data), "utf8"), ...(v !== undefined ? { version: v } : {}) };
  }
  const data = (r?.data ?? null) as Record<string, unknown> | null;
  if (!data) throw new LatchkeyError("vault-missing", ExitCode.NO_INPUT, `${ref.raw}: '${api}' returned no data`);
  const leaseId = typeof r?.lease_id === "string" ? r.lease_id : "";
  const out: FetchedSecret = { ref, value: Buffer.from(JSON.stringify(data), "utf8") };
  if (leaseId) {
    out.lease = { id: leaseId, durationSec: Number(r?.lease_duration ?? 0), renewable: !!r?.renewable };
    // Comparable with versions(): a leased secret's version is its lease while it is healthy.
    out.version = leaseId;
  }
  return out;
}

function explain(e: unknown, ref: Reference, api: string, version: number | undefined, policies: string[]): unknown {
  if (!(e instanceof VaultHttpError)) {
    if (e instanceof LatchkeyError) return new LatchkeyError(e.code, e.exitCode, `${ref.raw}: ${e.message}`);
    return e;
  }
  if (e.status === 403) {
    return new LatchkeyError("vault-denied", ExitCode.NO_PERM,
      `${ref.raw}: permission denied reading '${api}' (403): the token's policies (${policies.join(", ") || "none"}) do not grant 'read' on this path`);
  }
  if (e.status === 405) {
    // A write-only endpoint (auth/token/create, pki/issue/..., sys/tools/random): no retry
    // will make it readable, the reference is wrong.
    return new LatchkeyError("reference", ExitCode.CONFIG,
      `${ref.raw}: Vault does not allow reading '${api}' (405 unsupported operation): it is a write-only endpoint, not a secret to read`);
  }
  if (e.status === 404) {
    const meta = ((e.reply?.data ?? null) as { metadata?: { deletion_time?: string; destroyed?: boolean; version?: number } } | null)?.metadata;
    const which = version ? `version ${version} of '${api}'` : `'${api}'`;
    if (meta?.destroyed) return new LatchkeyError("vault-missing", ExitCode.NO_INPUT, `${ref.raw}: ${which} was destroyed (version ${meta.version})`);
    if (meta?.deletion_time) return new LatchkeyError("vault-missing", ExitCode.NO_INPUT, `${ref.raw}: ${which} was deleted at ${meta.deletion_time} (version ${meta.version}; undelete it or pick another ?version)`);
    return new LatchkeyError("vault-missing", ExitCode.NO_INPUT, `${ref.raw}: nothing at ${which} (404)`);
  }
  return new LatchkeyError("vault", ExitCode.TEMP_FAIL, `${ref.raw}: reading '${api}' failed: ${e.message}`);
}
