/**
 * A small Vault API client: token and namespace headers, bounded concurrency, retries with
 * backoff and jitter for what Vault says is temporary (503 sealed/standby, 502, 429 rate
 * limits, connection refused/reset) until the startup deadline, and no retry for what will not
 * get better (403, 404, 400, TLS failures).
 */
import { ExitCode, LatchkeyError } from "../../errors.ts";
import type { Logger } from "../../log/logger.ts";
import { Transport, type HttpReply } from "./http.ts";
import type { VaultOptions } from "./options.ts";

export class VaultHttpError extends Error {
  readonly status: number;
  readonly errors: string[];
  readonly reply: Record<string, unknown> | null;
  readonly path: string;

  constructor(status: number, errors: string[], reply: Record<string, unknown> | null, path: string) {
    super(`${status}${errors.length ? ` ${errors.map((e) => e.replace(/\s+/g, " ").trim()).join("; ")}` : ""}`);
    this.status = status;
    this.errors = errors;
    this.reply = reply;
    this.path = path;
  }
}

export interface CallOptions {
  body?: unknown;
  /** Send the client token (default true). */
  auth?: boolean;
  /** Use this token instead of the client's (unwrap). */
  token?: string;
  deadline: number;
  signal?: AbortSignal;
  /**
   * Retry what Vault says is temporary until the deadline (default: the client's
   * `retryUntilDeadline`). Off for rotation's polls: each failed poll is one request, and the
   * poller's own backoff spaces them (retrying inside each poll multiplied the request rate
   * during an outage).
   */
  retry?: boolean;
}

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_UNTRUSTED", "CERT_NOT_YET_VALID",
  "ERR_SSL_WRONG_VERSION_NUMBER", "EPROTO", "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
]);

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const RETRY_NET = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);

export class VaultClient {
  token = "";
  readonly opts: VaultOptions;
  readonly #t: Transport;
  readonly #log: Logger;
  #active = 0;
  readonly #queue: (() => void)[] = [];
  /** Requests sent (attempts included), for benchmarks and tests. */
  requests = 0;
  /** Startup retries until its deadline; the source turns this off once the app has its secrets. */
  retryUntilDeadline = true;

  constructor(opts: VaultOptions, log: Logger) {
    this.opts = opts;
    this.#log = log;
    this.#t = new Transport(opts.addr, opts.tls, opts.concurrency);
  }

  async call(method: string, path: string, o: CallOptions): Promise<Record<string, unknown> | null> {
    await this.#acquire();
    try {
      return await this.#withRetry(method, path, o);
    } finally {
      this.#release();
    }
  }

  async #withRetry(method: string, path: string, o: CallOptions): Promise<Record<string, unknown> | null> {
    const headers: Record<string, string> = { "x-vault-request": "true" };
    const token = o.token ?? (o.auth === false ? "" : this.token);
    if (token) headers["x-vault-token"] = token;
    if (this.opts.namespace) headers["x-vault-namespace"] = this.opts.namespace;
    const retry = o.retry ?? this.retryUntilDeadline;
    let attempt = 0;
    for (;;) {
      attempt++;
      const left = o.deadline - Date.now();
      let why: string;
      if (left <= 0) throw this.#gaveUp(path, "the startup deadline passed before a request could be sent");
      const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(left)]) : AbortSignal.timeout(left);
      let reply: HttpReply;
      try {
        this.requests++;
        reply = await this.#t.send(method, path, headers, o.body, signal);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(String((e as Error).message))) throw this.#tlsError(e as NodeJS.ErrnoException);
        if ((e as Error).name === "AbortError" || code === "ABORT_ERR") {
          if (o.signal?.aborted) throw new LatchkeyError("vault", ExitCode.TEMP_FAIL, `Vault request for '${path}' was cancelled`);
          throw this.#gaveUp(path, `no answer from ${this.opts.addr} before the startup deadline`);
        }
        if (!RETRY_NET.has(code)) throw new LatchkeyError("vault", ExitCode.TEMP_FAIL, `cannot reach Vault at ${this.opts.addr} for '${path}': ${code || (e as Error).message}`);
        why = `cannot reach Vault at ${this.opts.addr}: ${code}`;
        if (!retry) throw new LatchkeyError("vault", ExitCode.TEMP_FAIL, why);
        await this.#backoff(attempt, o.deadline, path, why);
        continue;
      }
      if (reply.status >= 200 && reply.status < 300) return reply.json;
      if (reply.json === null && reply.text !== undefined && reply.status >= 400 && reply.status < 500 && reply.status !== 429) throw this.#notVault(path, reply.status, reply.text);
      const errors = Array.isArray(reply.json?.errors) ? (reply.json!.errors as unknown[]).map(String) : [];
      const err = new VaultHttpError(reply.status, errors, reply.json, path);
      if (!RETRY_STATUS.has(reply.status) || !retry) throw err;
      why = `Vault at ${this.opts.addr} answered ${err.message}`;
      this.#log.debug("vault: temporary failure, retrying", { path, status: reply.status, attempt });
      await this.#backoff(attempt, o.deadline, path, why);
    }
  }

  async #backoff(attempt: number, deadline: number, path: string, why: string): Promise<void> {
    // Full jitter, capped at 2 s between attempts so a Vault that comes back is noticed quickly.
    const cap = Math.min(2000, 100 * 2 ** Math.min(attempt, 10));
    const wait = Math.random() * cap;
    if (Date.now() + wait >= deadline) throw this.#gaveUp(path, why);
    await new Promise((r) => setTimeout(r, wait));
  }

  #gaveUp(path: string, why: string): LatchkeyError {
    return new LatchkeyError("vault", ExitCode.TEMP_FAIL, `gave up reading '${path}' at the startup deadline: ${why}`);
  }

  /**
   * A 4xx whose body is not Vault's JSON: the address does not lead to Vault's API (most often
   * http:// to a TLS listener, which answers "Client sent an HTTP request to an HTTPS server").
   * The server's reason is shown, reduced to printable ASCII and cut short: it is text from the
   * network, not ours.
   */
  #notVault(path: string, status: number, text: string): LatchkeyError {
    const reason = text.replace(/[^\x20-\x7e]+/g, " ").replace(/\s+/g, " ").trim().slice(0, 160);
    const hint = /https server|tls|ssl/i.test(reason) && this.opts.addr.startsWith("http:")
      ? ": the server speaks TLS, use an https:// address"
      : ": is the address Vault's (scheme, host, port)?";
    return new LatchkeyError("vault", ExitCode.CONFIG, `${this.opts.addr} answered '${path}' with ${status} and no Vault reply ("${reason}")${hint}`);
  }

  #tlsError(e: NodeJS.ErrnoException): LatchkeyError {
    const hint = e.code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? "the certificate does not name this host (set --vault-tls-server-name / VAULT_TLS_SERVER_NAME to the name it carries)"
      : /CERTIFICATE_REQUIRED|BAD_CERTIFICATE/.test(e.code ?? "")
        ? "the server wants a client certificate (--vault-client-cert/--vault-client-key)"
        : e.code === "CERT_HAS_EXPIRED" ? "the server's certificate has expired"
        : "the server's certificate is not signed by a trusted CA (set --vault-ca-cert / VAULT_CACERT)";
    return new LatchkeyError("vault-tls", ExitCode.TEMP_FAIL, `TLS error talking to Vault at ${this.opts.addr}: ${e.code ?? e.message}: ${hint}`);
  }

  #acquire(): Promise<void> {
    if (this.#active < this.opts.concurrency) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.#queue.push(() => {
      this.#active++;
      r();
    }));
  }

  #release(): void {
    this.#active--;
    this.#queue.shift()?.();
  }

  close(): void {
    this.#t.close();
  }
}
