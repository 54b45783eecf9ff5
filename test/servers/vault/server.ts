/**
 * A stateful Vault-compatible HTTP(S) server for tests, written from Vault's published HTTP
 * API documentation (https://developer.hashicorp.com/vault/api-docs): KV v1 and v2 (versions,
 * metadata, delete/undelete/destroy), sys/internal/ui/mounts, token lookup/renew/revoke-self,
 * AppRole, Kubernetes and JWT login, response wrapping and unwrap, database-style dynamic
 * credentials with leases (renew, revoke, expiry), namespaces (X-Vault-Namespace), sealed and
 * standby modes, and Vault's error body `{"errors":[...]}` with its status codes.
 *
 * It rejects what Vault rejects: an unknown, expired or revoked token is 403 "permission
 * denied", a path the token's policies do not grant is 403, a missing secret is 404, a sealed
 * node answers 503 to everything but sys/health and sys/seal-status.
 */
import { createServer as createHttp, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { anyAccessUnder, capabilities, type Capability, type Policy } from "./acl.ts";
import { verifyJwt } from "./jwt.ts";
import { kv2Metadata, kv2Write, Namespace, parseTtl, type Token } from "./state.ts";

export interface TestVaultOptions {
  tls?: { cert: string; key: string; ca?: string; requireClientCert?: boolean };
  /** Delay added to every response, to make concurrency measurable. */
  latencyMs?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  namespace: string;
  status: number;
}

class HttpError extends Error {
  readonly status: number;
  readonly errors: string[];
  readonly extra: Record<string, unknown>;

  constructor(status: number, errors: string[], extra: Record<string, unknown> = {}) {
    super(errors.join("; "));
    this.status = status;
    this.errors = errors;
    this.extra = extra;
  }
}

const DENIED = "1 error occurred:\n\t* permission denied\n\n";
const KV2_BAD_PATH = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.";

export class TestVault {
  readonly rootToken = `hvs.root-${randomBytes(8).toString("hex")}`;
  readonly requests: RequestRecord[] = [];
  sealed = false;
  standby = false;
  latencyMs: number;
  inFlight = 0;
  maxInFlight = 0;
  /** Unwrapped responses, keyed by wrapping token (single use). */
  readonly #wrapped = new Map<string, { body: Record<string, unknown>; expiresAt: number }>();
  readonly #namespaces = new Map<string, Namespace>();
  #server: Server | null = null;
  #opts: TestVaultOptions;
  url = "";

  constructor(opts: TestVaultOptions = {}) {
    this.#opts = opts;
    this.latencyMs = opts.latencyMs ?? 0;
    const root = this.namespace("");
    root.createToken({ policies: ["root"], id: this.rootToken, path: "auth/token/root" });
    root.mountKv("secret", 2);
  }

  /** The namespace named `name` ("" is the root namespace), created on first use. */
  namespace(name = ""): Namespace {
    const key = name.replace(/^\/+|\/+$/g, "");
    let ns = this.#namespaces.get(key);
    if (!ns) {
      ns = new Namespace(key);
      this.#namespaces.set(key, ns);
      if (key !== "") ns.mountKv("secret", 2);
    }
    return ns;
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const t = this.#opts.tls;
    this.#server = t
      ? createHttps({ cert: t.cert, key: t.key, ...(t.ca ? { ca: t.ca } : {}), requestCert: !!t.requireClientCert, rejectUnauthorized: !!t.requireClientCert }, handler)
      : createHttp(handler);
    this.#server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (this.#server.address() as AddressInfo).port;
    this.url = `${t ? "https" : "http"}://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Requests to a path (for assertions), optionally only successful ones. */
  count(pred: (r: RequestRecord) => boolean): number {
    return this.requests.filter(pred).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://x");
    const nsName = String(req.headers["x-vault-namespace"] ?? "").replace(/^\/+|\/+$/g, "");
    let status = 200;
    let body: unknown = null;
    try {
      if (!url.pathname.startsWith("/v1/")) throw new HttpError(404, []);
      const path = decodeURIComponent(url.pathname.slice(4)).replace(/\/+$/, "");
      let payload: Record<string, unknown> = {};
      if (chunks.length) {
        try {
          payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        } catch {
          throw new HttpError(400, ["failed to parse JSON input: invalid character"]);
        }
      }
      const method = (req.method === "GET" && url.searchParams.get("list") === "true") ? "LIST" : (req.method ?? "GET");
      const r = this.#route(method, path, url.searchParams, payload, req, nsName);
      status = r.status;
      body = r.body;
      const wrapTtl = parseTtl(req.headers["x-vault-wrap-ttl"]);
      if (wrapTtl && status === 200 && body) {
        const token = `hvs.wrap-${randomBytes(16).toString("base64url")}`;
        this.#wrapped.set(token, { body: body as Record<string, unknown>, expiresAt: Date.now() + wrapTtl * 1000 });
        body = { request_id: rid(), lease_id: "", renewable: false, lease_duration: 0, data: null, auth: null,
          wrap_info: { token, accessor: randomBytes(8).toString("hex"), ttl: wrapTtl, creation_time: new Date().toISOString(), creation_path: path } };
      }
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status;
        body = { errors: e.errors, ...e.extra };
      } else {
        status = 500;
        body = { errors: [`internal error: ${String(e)}`] };
      }
    }
    this.requests.push({ method: req.method ?? "", path: url.pathname, namespace: nsName, status });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    this.inFlight--;
    if (status === 204 || body === null) {
      res.writeHead(status === 200 ? 204 : status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  }

  #route(method: string, path: string, q: URLSearchParams, p: Record<string, unknown>, req: IncomingMessage, nsName: string): { status: number; body: unknown } {
    if (path === "sys/health") {
      const status = this.sealed ? 503 : this.standby ? 429 : 200;
      return { status, body: { initialized: true, sealed: this.sealed, standby: this.standby, version: "1.18.0-test" } };
    }
    if (path === "sys/seal-status") return { status: 200, body: { type: "shamir", initialized: true, sealed: this.sealed, t: 1, n: 1, progress: 0, version: "1.18.0-test" } };
    if (this.sealed) throw new HttpError(503, ["Vault is sealed"]);
    if (this.standby) throw new HttpError(503, ["local node not active but active cluster node not found"]);
    if (nsName !== "" && !this.#namespaces.has(nsName)) throw new HttpError(403, ["permission denied"]);
    const ns = this.namespace(nsName);
    const tokenId = req.headers["x-vault-token"] as string | undefined;

    // Unauthenticated: logins and unwrap (which authenticates with the wrapping token itself).
    if (path === "sys/wrapping/unwrap" && (method === "POST" || method === "PUT")) {
      const wt = (p.token as string | undefined) ?? tokenId;
      const w = wt ? this.#wrapped.get(wt) : undefined;
      if (!w || Date.now() > w.expiresAt) throw new HttpError(400, ["wrapping token is not valid or does not exist"]);
      this.#wrapped.delete(wt!);
      return { status: 200, body: w.body };
    }
    const login = /^auth\/(.+)\/login$/.exec(path);
    if (login && (method === "POST" || method === "PUT")) return { status: 200, body: this.#login(ns, login[1]!, p) };

    const token = ns.liveToken(tokenId);
    if (!token) throw new HttpError(403, ["permission denied"]);
    if (token.numUses > 0 && --token.numUses === 0) ns.revokeToken(token);
    const policies: Policy[] = token.policies.includes("root") ? [[{ path: "*", capabilities: ["create", "read", "update", "delete", "list", "sudo"] }]]
      : token.policies.map((n) => ns.policies.get(n) ?? []);
    const need = (cap: Capability, on = path) => {
      const caps = capabilities(policies, on);
      if (caps.has("deny") || !caps.has(cap)) throw new HttpError(403, [DENIED]);
    };

    if (path === "auth/token/lookup-self" && method === "GET") {
      need("read");
      return { status: 200, body: envelope({ data: tokenData(token) }) };
    }
    if (path === "auth/token/renew-self" && (method === "POST" || method === "PUT")) {
      need("update");
      if (!token.renewable) throw new HttpError(400, ["lease is not renewable"]);
      const inc = parseTtl(p.increment);
      if (inc === null) throw new HttpError(400, ["invalid increment"]);
      const want = (inc || token.creationTtl) * 1000;
      let until = Date.now() + want;
      const warnings: string[] = [];
      if (token.maxExpiresAt && until > token.maxExpiresAt) {
        until = token.maxExpiresAt;
        warnings.push("TTL of \"" + Math.round(want / 1000) + "s\" exceeded the effective max_ttl of \"" + Math.round((token.maxExpiresAt - Date.now()) / 1000) + "s\"; TTL value is capped accordingly");
      }
      token.expiresAt = until;
      return { status: 200, body: envelope({ auth: authBlock(token), warnings: warnings.length ? warnings : null }) };
    }
    if (path === "auth/token/revoke-self" && (method === "POST" || method === "PUT")) {
      need("update");
      ns.revokeToken(token);
      return { status: 204, body: null };
    }
    if (path === "auth/token/create" && (method === "POST" || method === "PUT")) {
      need("update");
      const ttl = parseTtl(p.ttl) ?? 0;
      const t = ns.createToken({ policies: (p.policies as string[] | undefined) ?? token.policies, ttl, maxTtl: parseTtl(p.explicit_max_ttl) ?? 0, renewable: p.renewable !== false });
      return { status: 200, body: envelope({ auth: authBlock(t) }) };
    }
    const secretId = /^auth\/(.+)\/role\/([^/]+)\/secret-id$/.exec(path);
    if (secretId && (method === "POST" || method === "PUT")) {
      need("update");
      const id = ns.newSecretId(secretId[2]!, secretId[1]!);
      return { status: 200, body: envelope({ data: { secret_id: id, secret_id_accessor: randomBytes(8).toString("hex"), secret_id_ttl: 0, secret_id_num_uses: 0 } }) };
    }
    if (path.startsWith("sys/internal/ui/mounts/") && method === "GET") {
      const target = path.slice("sys/internal/ui/mounts/".length);
      const m = ns.mountFor(target);
      // Vault answers "no access" the same way whether the mount is missing or forbidden.
      if (!m || !anyAccessUnder(policies, m.path)) throw new HttpError(403, ["preflight capability check returned 403, please ensure client's policies grant access to path \"" + target + "/\""]);
      const options = m.type === "kv" ? { version: String(m.version) } : null;
      return { status: 200, body: envelope({ data: { accessor: `${m.type}_${m.path.length}`, config: { default_lease_ttl: 0, max_lease_ttl: 0 }, description: "", local: false, options, path: m.path, plugin_version: "", seal_wrap: false, type: m.type, uuid: "00000000-0000-0000-0000-000000000000" } }) };
    }
    if ((path === "sys/leases/renew" || path === "sys/renew") && (method === "PUT" || method === "POST")) {
      need("update");
      const l = ns.leases.get(String(p.lease_id ?? ""));
      if (!l || l.revoked || Date.now() > l.expiresAt) throw new HttpError(400, ["lease not found"]);
      if (!l.renewable) throw new HttpError(400, ["lease is not renewable"]);
      const inc = parseTtl(p.increment) || l.durationSec;
      l.expiresAt = Math.min(Date.now() + inc * 1000, l.maxExpiresAt);
      l.renewals++;
      return { status: 200, body: { request_id: rid(), lease_id: l.id, renewable: true, lease_duration: Math.round((l.expiresAt - Date.now()) / 1000), data: null, warnings: null } };
    }
    if (path === "sys/leases/revoke" && (method === "PUT" || method === "POST")) {
      need("update");
      const l = ns.leases.get(String(p.lease_id ?? ""));
      if (!l) throw new HttpError(400, ["invalid lease"]);
      l.revoked = true;
      return { status: 204, body: null };
    }
    if (path === "sys/leases/lookup" && (method === "PUT" || method === "POST")) {
      need("update");
      const l = ns.leases.get(String(p.lease_id ?? ""));
      if (!l || l.revoked) throw new HttpError(400, ["invalid lease"]);
      return { status: 200, body: envelope({ data: { id: l.id, renewable: l.renewable, ttl: Math.max(0, Math.round((l.expiresAt - Date.now()) / 1000)), issue_time: new Date(l.issuedAt).toISOString() } }) };
    }

    const m = ns.mountFor(path);
    if (!m) throw new HttpError(404, [`no handler for route "${path}". route entry not found.`]);
    const rel = path.slice(m.path.length);
    if (m.type === "database") {
      const cr = /^creds\/([^/]+)$/.exec(rel);
      if (!cr || method !== "GET") throw new HttpError(405, ["unsupported operation"]);
      need("read");
      const role = m.roles.get(cr[1]!);
      if (!role) throw new HttpError(400, [`unknown role: ${cr[1]}`]);
      const lease = ns.newLease(token.id, path, role.defaultTtl, role.maxTtl);
      return { status: 200, body: { request_id: rid(), lease_id: lease.id, renewable: true, lease_duration: role.defaultTtl,
        data: { username: `v-token-${cr[1]}-${randomBytes(6).toString("hex")}`, password: randomBytes(15).toString("base64url") }, wrap_info: null, warnings: null, auth: null } };
    }
    if (m.version === 1) {
      if (method === "GET") {
        need("read");
        const d = m.v1.get(rel);
        if (!d) throw new HttpError(404, []);
        return { status: 200, body: { request_id: rid(), lease_id: "", renewable: false, lease_duration: 2764800, data: d, wrap_info: null, warnings: null, auth: null } };
      }
      if (method === "LIST") {
        need("list");
        const prefix = rel === "" ? "" : rel + "/";
        const keys = listKeys([...m.v1.keys()], prefix);
        if (!keys.length) throw new HttpError(404, []);
        return { status: 200, body: envelope({ data: { keys } }) };
      }
      if (method === "POST" || method === "PUT") {
        need(m.v1.has(rel) ? "update" : "create");
        m.v1.set(rel, p);
        return { status: 204, body: null };
      }
      if (method === "DELETE") {
        need("delete");
        m.v1.delete(rel);
        return { status: 204, body: null };
      }
      throw new HttpError(405, ["unsupported operation"]);
    }
    // KV v2
    const op = /^(data|metadata|delete|undelete|destroy)(?:\/(.*))?$/.exec(rel);
    if (!op) {
      if (rel === "config" && method === "GET") {
        need("read");
        return { status: 200, body: envelope({ data: { cas_required: false, delete_version_after: "0s", max_versions: 0 } }) };
      }
      throw new HttpError(404, [], { warnings: [KV2_BAD_PATH] });
    }
    const kind = op[1]!;
    const key = op[2] ?? "";
    if (key === "" && !(kind === "metadata" && method === "LIST")) throw new HttpError(404, [], { warnings: [KV2_BAD_PATH] });
    const s = m.v2.get(key);
    if (kind === "data" && method === "GET") {
      need("read");
      const v = Number(q.get("version") ?? "0");
      if (!Number.isInteger(v) || v < 0) throw new HttpError(400, ["invalid version"]);
      if (!s) throw new HttpError(404, []);
      const ver = v === 0 ? s.current : v;
      const entry = s.versions.get(ver);
      if (!entry) throw new HttpError(404, []);
      if (entry.deletionTime || entry.destroyed) return { status: 404, body: envelope({ data: { data: null, metadata: kv2Metadata(s, ver) } }) };
      return { status: 200, body: envelope({ data: { data: entry.data, metadata: kv2Metadata(s, ver) } }) };
    }
    if (kind === "data" && (method === "POST" || method === "PUT")) {
      need(s ? "update" : "create");
      const data = p.data;
      if (!data || typeof data !== "object") throw new HttpError(400, ["no data provided"]);
      const cas = (p.options as { cas?: number } | undefined)?.cas;
      if (cas !== undefined && cas !== (s?.current ?? 0)) throw new HttpError(400, ["check-and-set parameter did not match the current version"]);
      const v = kv2Write(m.v2, key, data as Record<string, unknown>);
      return { status: 200, body: envelope({ data: kv2Metadata(m.v2.get(key)!, v) }) };
    }
    if (kind === "data" && method === "DELETE") {
      need("delete");
      if (s) ns.kvDelete(m.path, key, [s.current], "delete");
      return { status: 204, body: null };
    }
    if ((kind === "delete" || kind === "undelete" || kind === "destroy") && (method === "POST" || method === "PUT")) {
      need("update");
      const versions = p.versions as number[] | undefined;
      if (!Array.isArray(versions) || !versions.length) throw new HttpError(400, ["no version number provided"]);
      if (s) {
        for (const v of versions) {
          const e = s.versions.get(v);
          if (!e) continue;
          if (kind === "delete") e.deletionTime ||= new Date().toISOString();
          else if (kind === "undelete") { if (!e.destroyed) e.deletionTime = ""; }
          else { e.destroyed = true; e.data = null; }
        }
      }
      return { status: 204, body: null };
    }
    if (kind === "metadata" && method === "GET") {
      need("read");
      if (!s) throw new HttpError(404, []);
      const versions: Record<string, unknown> = {};
      for (const [n, e] of s.versions) versions[String(n)] = { created_time: e.created, deletion_time: e.deletionTime, destroyed: e.destroyed };
      return { status: 200, body: envelope({ data: { cas_required: false, created_time: s.created, current_version: s.current, custom_metadata: s.customMetadata, delete_version_after: "0s", max_versions: s.maxVersions, oldest_version: s.oldest, updated_time: s.updated, versions } }) };
    }
    if (kind === "metadata" && method === "LIST") {
      need("list");
      const keys = listKeys([...m.v2.keys()], key === "" ? "" : key + "/");
      if (!keys.length) throw new HttpError(404, []);
      return { status: 200, body: envelope({ data: { keys } }) };
    }
    if (kind === "metadata" && method === "DELETE") {
      need("delete");
      m.v2.delete(key);
      return { status: 204, body: null };
    }
    throw new HttpError(405, ["unsupported operation"]);
  }

  #login(ns: Namespace, mount: string, p: Record<string, unknown>): unknown {
    const a = ns.auth.get(mount);
    if (!a) throw new HttpError(400, [`no handler for route "auth/${mount}/login". route entry not found.`]);
    if (a.type === "approle") {
      const roleId = p.role_id;
      if (typeof roleId !== "string" || !roleId) throw new HttpError(400, ["missing role_id"]);
      const role = [...a.roles.values()].find((r) => r.roleId === roleId);
      const sid = typeof p.secret_id === "string" ? role?.secretIds.get(p.secret_id) : undefined;
      if (!role || !sid) throw new HttpError(400, ["invalid role or secret ID"]);
      if (sid.usesLeft > 0 && --sid.usesLeft === 0) role.secretIds.delete(p.secret_id as string);
      const t = ns.createToken({ policies: ["default", ...role.policies], ttl: role.tokenTtl, maxTtl: role.tokenMaxTtl, path: `auth/${mount}/login` });
      return envelope({ auth: authBlock(t) });
    }
    const roleName = p.role;
    const jwt = p.jwt;
    if (typeof roleName !== "string" || !roleName) throw new HttpError(400, ["missing role"]);
    if (typeof jwt !== "string" || !jwt) throw new HttpError(400, ["missing jwt"]);
    const role = a.roles.get(roleName);
    if (!role) throw new HttpError(400, [`invalid role name "${roleName}"`]);
    const claims = a.key ? verifyJwt(jwt, a.key) : null;
    if (!claims) throw new HttpError(403, ["permission denied"]);
    if (a.type === "kubernetes") {
      const sa = String(claims["kubernetes.io/serviceaccount/service-account.name"] ?? "");
      const sns = String(claims["kubernetes.io/serviceaccount/namespace"] ?? "");
      const names = role.boundServiceAccountNames ?? [];
      const nss = role.boundServiceAccountNamespaces ?? [];
      if (!names.includes("*") && !names.includes(sa)) throw new HttpError(403, ["service account name not authorized"]);
      if (!nss.includes("*") && !nss.includes(sns)) throw new HttpError(403, ["namespace not authorized"]);
    } else {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (role.boundAudiences?.length && !aud.some((x) => role.boundAudiences!.includes(String(x)))) throw new HttpError(400, ["error validating token: invalid audience (aud) claim: audience claim does not match any expected audience"]);
      if (role.boundSubject && claims.sub !== role.boundSubject) throw new HttpError(400, ["sub claim does not match bound subject"]);
    }
    const t = ns.createToken({ policies: ["default", ...role.policies], ttl: role.ttl, maxTtl: role.maxTtl, path: `auth/${mount}/login` });
    return envelope({ auth: authBlock(t) });
  }
}

function rid(): string {
  return randomBytes(16).toString("hex").replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, "$1-$2-$3-$4-$5");
}

function envelope(o: Record<string, unknown>): Record<string, unknown> {
  return { request_id: rid(), lease_id: "", renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null, auth: null, ...o };
}

function ttlLeft(t: Token): number {
  return t.expiresAt ? Math.max(0, Math.round((t.expiresAt - Date.now()) / 1000)) : 0;
}

function authBlock(t: Token): Record<string, unknown> {
  return { client_token: t.id, accessor: t.accessor, policies: t.policies, token_policies: t.policies, metadata: t.meta, lease_duration: ttlLeft(t), renewable: t.renewable, entity_id: "", token_type: "service", orphan: false, num_uses: t.numUses };
}

function tokenData(t: Token): Record<string, unknown> {
  return { accessor: t.accessor, creation_time: Math.floor(t.issuedAt / 1000), creation_ttl: t.creationTtl, display_name: "token", entity_id: "",
    expire_time: t.expiresAt ? new Date(t.expiresAt).toISOString() : null, explicit_max_ttl: t.maxExpiresAt ? Math.round((t.maxExpiresAt - t.issuedAt) / 1000) : 0,
    id: t.id, issue_time: new Date(t.issuedAt).toISOString(), meta: t.meta, num_uses: t.numUses, orphan: false, path: t.path, policies: t.policies,
    renewable: t.renewable, ttl: ttlLeft(t), type: "service" };
}

function listKeys(all: string[], prefix: string): string[] {
  const out = new Set<string>();
  for (const k of all) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const slash = rest.indexOf("/");
    out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return [...out].sort();
}

export async function startTestVault(opts: TestVaultOptions = {}): Promise<TestVault> {
  return new TestVault(opts).start();
}
