/**
 * The HTTP layer of the Vault client: node:https (not global fetch) because fetch cannot take a
 * CA bundle, a client certificate or a server name without the undici package; node:https does
 * all of it with one Agent. Keep-alive sockets are capped at the read concurrency.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { TlsOptions } from "./options.ts";

export interface HttpReply {
  status: number;
  /** Parsed JSON body, or null for an empty/non-JSON body. */
  json: Record<string, unknown> | null;
  /** The start of a body that is not JSON (not Vault's API: a TLS listener, a proxy). */
  text?: string;
}

export class Transport {
  readonly #base: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #https: boolean;
  readonly #tls: TlsOptions;

  constructor(addr: string, tls: TlsOptions, maxSockets: number) {
    this.#base = new URL(addr);
    this.#https = this.#base.protocol === "https:";
    this.#tls = tls;
    this.#agent = this.#https
      ? new HttpsAgent({
          keepAlive: true,
          maxSockets,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
          ...(tls.servername ? { servername: tls.servername } : {}),
          rejectUnauthorized: !tls.skipVerify,
        })
      : new HttpAgent({ keepAlive: true, maxSockets });
  }

  send(method: string, path: string, headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<HttpReply> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(`/v1/${path.replace(/^\/+/, "")}`, this.#base);
    const req = this.#https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = req(url, {
        method,
        agent: this.#agent,
        signal,
        headers: { ...headers, ...(data !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(data)) } : {}) },
        ...(this.#https && this.#tls.servername ? { servername: this.#tls.servername } : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> | null = null;
          let raw: string | undefined;
          if (text.trim()) {
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {
              json = null;
              raw = text.slice(0, 512);
            }
          }
          resolve({ status: res.statusCode ?? 0, json, ...(raw !== undefined ? { text: raw } : {}) });
        });
      });
      r.on("error", reject);
      r.end(data);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
