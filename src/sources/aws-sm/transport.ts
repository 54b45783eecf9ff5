/**
 * The Secrets Manager client's HTTP/1.1 transport, straight over node:net (node:tls for
 * https:), in place of the SDK's NodeHttpHandler over node:http. Issue 15: the first aws-sm://
 * reference paid ~5-8 ms for node:http alone, cold (loading its six modules, then compiling on
 * first call each function of its client, agent, outgoing and incoming messages and parser
 * glue: Node's built-in code cache holds only their top levels). Measured here, one
 * BatchGetSecretValue from a fresh process against moto: ~16-21 ms from send to output with
 * NodeHttpHandler, ~12-14 ms with this.
 *
 * The thin client (client.ts) resolves credentials with the SDK's chain (whose own requests to
 * IMDS, ECS, STS and SSO keep the SDK's handlers), signs with SigV4 and retries; this sends
 * the signed request as built and hands back status, headers and body.
 * It does what NodeHttpHandler does for this client: keep-alive connections (one request at a
 * time each, idle ones unref'd so they never hold the process), the abort signal, a request
 * timeout when one is configured, socket errors passed through (ECONNRESET, EPIPE and
 * ETIMEDOUT named TimeoutError, which the SDK's retry strategy treats as transient).
 * The body comes back whole, as bytes: a response here is at most a batch of 20 secrets.
 */
import type { Socket } from "node:net";

export interface TransportRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  fragment?: string;
  username?: string;
  password?: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface TransportResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The largest response head and body accepted (Node's own header limit is 16 KB). */
const MAX_HEAD = 64 * 1024;
const MAX_BODY = 64 * 1024 * 1024;
const TIMEOUT_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT"]);

export class LightHttpHandler {
  readonly metadata = { handlerProtocol: "http/1.1" };
  /** Idle keep-alive connections by origin, each with the listener that drops it when closed. */
  readonly #idle = new Map<string, Socket[]>();
  readonly #drop = new WeakMap<Socket, () => void>();
  #config: { requestTimeout?: number } = {};

  constructor(config: { requestTimeout?: number } = {}) {
    this.#config = { ...config };
  }

  updateHttpClientConfig(key: string, value: unknown): void {
    this.#config = { ...this.#config, [key]: value };
  }

  httpHandlerConfigs(): { requestTimeout?: number } {
    return this.#config;
  }

  destroy(): void {
    for (const list of this.#idle.values()) for (const s of list) s.destroy();
    this.#idle.clear();
  }

  handle(request: TransportRequest, options: { abortSignal?: AbortSignal; requestTimeout?: number } = {}): Promise<{ response: TransportResponse }> {
    const { abortSignal } = options;
    if (abortSignal?.aborted) return Promise.reject(abortError(abortSignal));
    const tlsOn = request.protocol === "https:";
    if (!tlsOn && request.protocol !== "http:") return Promise.reject(new Error(`unsupported protocol ${request.protocol}`));
    const host = request.hostname.startsWith("[") && request.hostname.endsWith("]") ? request.hostname.slice(1, -1) : request.hostname;
    const port = request.port ?? (tlsOn ? 443 : 80);
    const origin = `${request.protocol}//${host}:${port}`;
    let head: string;
    let body: Buffer;
    try {
      ({ head, body } = serialize(request, host, port, tlsOn));
    } catch (e) {
      return Promise.reject(e);
    }
    const timeout = options.requestTimeout ?? this.#config.requestTimeout;
    return new Promise((resolve, reject) => {
      let socket = this.#takeIdle(origin);
      const reused = socket !== undefined;
      socket ??= connect(tlsOn, host, port);
      const s = socket;
      const parser = new ResponseParser(request.method === "HEAD");
      let settled = false;
      const finish = (err: Error | null, res?: TransportResponse, keep = false) => {
        if (settled) return;
        settled = true;
        s.off("data", onData).off("error", onError).off("close", onClose).off("end", onEnd).off("timeout", onTimeout);
        abortSignal?.removeEventListener("abort", onAbort);
        if (timeout) s.setTimeout(0);
        if (keep) this.#putIdle(origin, s);
        else s.destroy();
        if (err) reject(err);
        else resolve({ response: res! });
      };
      const onData = (chunk: Buffer) => {
        let res: TransportResponse | null;
        try {
          res = parser.push(chunk);
        } catch (e) {
          finish(e as Error);
          return;
        }
        if (res) finish(null, res, parser.reusable);
      };
      const onEnd = () => {
        const res = parser.end();
        if (res) finish(null, res);
        else finish(Object.assign(new Error(reused ? "socket hang up (a kept-alive connection was closed by the server)" : "socket hang up"), { code: "ECONNRESET", name: "TimeoutError" }));
      };
      const onClose = () => onEnd();
      const onError = (e: Error & { code?: string }) => finish(e.code && TIMEOUT_CODES.has(e.code) ? Object.assign(e, { name: "TimeoutError" }) : e);
      const onTimeout = () => finish(Object.assign(new Error(`Connection timed out after ${timeout} ms`), { code: "ETIMEDOUT", name: "TimeoutError" }));
      const onAbort = () => finish(abortError(abortSignal!));
      s.on("data", onData).on("error", onError).on("close", onClose).on("end", onEnd);
      if (timeout) s.setTimeout(timeout, onTimeout);
      abortSignal?.addEventListener("abort", onAbort, { once: true });
      s.ref();
      s.write(body.length ? Buffer.concat([Buffer.from(head, "latin1"), body]) : head);
    });
  }

  #takeIdle(origin: string): Socket | undefined {
    const list = this.#idle.get(origin);
    while (list?.length) {
      const s = list.pop()!;
      const drop = this.#drop.get(s);
      if (drop) s.off("error", drop).off("close", drop);
      if (!s.destroyed && s.writable && s.readable) return s;
      s.destroy();
    }
    return undefined;
  }

  #putIdle(origin: string, s: Socket): void {
    const list = this.#idle.get(origin) ?? [];
    this.#idle.set(origin, list);
    list.push(s);
    s.unref();
    // A server that closes an idle connection: drop it from the pool.
    const drop = () => {
      const i = list.indexOf(s);
      if (i !== -1) list.splice(i, 1);
      s.destroy();
    };
    this.#drop.set(s, drop);
    s.once("error", drop).once("close", drop);
  }
}

function connect(tlsOn: boolean, host: string, port: number): Socket {
  if (tlsOn) {
    const tls = process.getBuiltinModule("node:tls") as typeof import("node:tls");
    const net = process.getBuiltinModule("node:net") as typeof import("node:net");
    // SNI only for names, as node:https does; the certificate is verified against the name.
    return tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ALPNProtocols: ["http/1.1"] });
  }
  const net = process.getBuiltinModule("node:net") as typeof import("node:net");
  const s = net.connect({ host, port });
  s.setNoDelay(true);
  return s;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as { message?: string } | undefined;
  return Object.assign(new Error(typeof reason?.message === "string" ? reason.message : "Request aborted"), { name: "AbortError" });
}

/** A header name or value with CR, LF or NUL would let one header write others. */
const UNSAFE = /[\r\n\0]/;

function serialize(r: TransportRequest, host: string, port: number, tlsOn: boolean): { head: string; body: Buffer } {
  const body = r.body == null ? Buffer.alloc(0)
    : typeof r.body === "string" ? Buffer.from(r.body, "utf8")
    : r.body instanceof Uint8Array ? Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength)
    : null;
  if (body === null) throw new Error("this transport sends string or byte bodies only");
  let path = r.path || "/";
  const query = r.query ? queryString(r.query) : "";
  if (query) path += `?${query}`;
  if (UNSAFE.test(path) || /\s/.test(path) || UNSAFE.test(r.method) || !/^[A-Z]+$/.test(r.method)) throw new Error("invalid request line");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = String(v);
  headers.host ??= (tlsOn ? port === 443 : port === 80) ? (host.includes(":") ? `[${host}]` : host) : `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (r.username != null || r.password != null) headers.authorization ??= `Basic ${Buffer.from(`${r.username ?? ""}:${r.password ?? ""}`).toString("base64")}`;
  if (body.length || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(r.method)) headers["content-length"] ??= String(body.length);
  let head = `${r.method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (UNSAFE.test(k) || UNSAFE.test(v) || k.includes(":")) throw new Error(`invalid header ${JSON.stringify(k)}`);
    head += `${k}: ${v}\r\n`;
  }
  return { head: head + "\r\n", body };
}

/** As @smithy/querystring-builder: keys in order, each part escaped as RFC 3986 asks. */
function queryString(query: Record<string, string | string[] | null>): string {
  const esc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v == null) parts.push(esc(key));
    else if (Array.isArray(v)) for (const one of v) parts.push(`${esc(key)}=${esc(one)}`);
    else parts.push(`${esc(key)}=${esc(v)}`);
  }
  return parts.join("&");
}

/**
 * One HTTP/1.1 response, pushed chunk by chunk: the head (1xx interim responses skipped), then
 * a body framed by content-length, chunked encoding, or the end of the connection.
 */
export class ResponseParser {
  #buf: Buffer = Buffer.alloc(0);
  #head: { statusCode: number; reason: string; headers: Record<string, string> } | null = null;
  #mode: "length" | "chunked" | "close" | "none" = "none";
  #length = 0;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Whether the connection can carry another request after this response. */
  reusable = false;

  readonly #noBody: boolean;

  constructor(noBody: boolean) {
    this.#noBody = noBody;
  }

  push(chunk: Buffer): TransportResponse | null {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (!this.#head) {
      const end = this.#buf.indexOf("\r\n\r\n");
      if (end === -1) {
        if (this.#buf.length > MAX_HEAD) throw new Error("response head too large");
        return null;
      }
      const head = this.#parseHead(this.#buf.subarray(0, end).toString("latin1"));
      this.#buf = this.#buf.subarray(end + 4);
      if (head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101) continue;
      this.#head = head;
      const h = head.headers;
      const keepAlive = !/(^|,)\s*close\s*(,|$)/i.test(h.connection ?? "");
      if (this.#noBody || head.statusCode === 204 || head.statusCode === 304) {
        this.#mode = "none";
        this.reusable = keepAlive;
      } else if (/(^|,)\s*chunked\s*$/i.test(h["transfer-encoding"] ?? "")) {
        this.#mode = "chunked";
        this.reusable = keepAlive;
      } else if (h["content-length"] !== undefined) {
        if (!/^\d+$/.test(h["content-length"])) throw new Error("invalid content-length in the response");
        this.#mode = "length";
        this.#length = Number(h["content-length"]);
        if (this.#length > MAX_BODY) throw new Error("response body too large");
        this.reusable = keepAlive;
      } else {
        this.#mode = "close";
        this.reusable = false;
      }
    }
    return this.#body();
  }

  /** The connection ended: a body framed by the close is complete, any other is not. */
  end(): TransportResponse | null {
    if (this.#head && this.#mode === "close") return this.#done(Buffer.concat([...this.#chunks, this.#buf]));
    return null;
  }

  #parseHead(text: string): { statusCode: number; reason: string; headers: Record<string, string> } {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) throw new Error("malformed HTTP response");
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      if (c <= 0) throw new Error("malformed HTTP response header");
      const k = line.slice(0, c).trim().toLowerCase();
      const v = line.slice(c + 1).trim();
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    return { statusCode: Number(m[1]), reason: m[2] ?? "", headers };
  }

  #body(): TransportResponse | null {
    switch (this.#mode) {
      case "none":
        return this.#done(Buffer.alloc(0));
      case "length":
        if (this.#buf.length < this.#length) return null;
        if (this.#buf.length > this.#length) this.reusable = false; // bytes nobody asked for
        return this.#done(this.#buf.subarray(0, this.#length));
      case "close":
        this.#size += this.#buf.length;
        if (this.#size > MAX_BODY) throw new Error("response body too large");
        this.#chunks.push(this.#buf);
        this.#buf = Buffer.alloc(0);
        return null;
      case "chunked":
        for (;;) {
          const eol = this.#buf.indexOf("\r\n");
          // A chunk-size line (with its extensions) longer than a response head is no HTTP.
          if (eol === -1 || eol > MAX_HEAD) {
            if (eol > MAX_HEAD || this.#buf.length > MAX_HEAD) throw new Error("malformed chunked response");
            return null;
          }
          const size = parseInt(this.#buf.subarray(0, eol).toString("latin1").split(";")[0]!.trim(), 16);
          if (!Number.isFinite(size) || size < 0) throw new Error("malformed chunked response");
          // Refused before its bytes are buffered, not after.
          if (this.#size + size > MAX_BODY) throw new Error("response body too large");
          if (size === 0) {
            // The last chunk, trailers (ignored), and the blank line that ends them.
            const end = this.#buf.indexOf("\r\n\r\n", eol);
            if (end === -1) return null;
            if (this.#buf.length > end + 4) this.reusable = false;
            return this.#done(Buffer.concat(this.#chunks));
          }
          if (this.#buf.length < eol + 2 + size + 2) return null;
          this.#size += size;
          this.#chunks.push(this.#buf.subarray(eol + 2, eol + 2 + size));
          this.#buf = this.#buf.subarray(eol + 2 + size + 2);
        }
    }
  }

  #done(body: Buffer): TransportResponse {
    const h = this.#head!;
    return { statusCode: h.statusCode, reason: h.reason, headers: h.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  }
}
