/**
 * http(s)://: one GET, no redirects followed (a 3xx is judged by the accepted status
 * ranges like any other status, as Kubernetes does), no connection reuse.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { FileReadError, readRegularFile } from "../sources/file/read.ts";
import { classifyError, failed, passed, type Attempt } from "./outcome.ts";
import type { HttpTarget } from "./target.ts";

const BODY_LIMIT = 1024 * 1024;

export async function probeHttp(t: HttpTarget, signal: AbortSignal): Promise<Attempt> {
  const host = t.url.hostname.replace(/^\[|\]$/g, "");
  const opts: RequestOptions = {
    method: "GET",
    hostname: host,
    port: t.url.port || (t.kind === "https" ? 443 : 80),
    path: `${t.url.pathname}${t.url.search}`,
    headers: { "user-agent": "latchkey-health", accept: "*/*", connection: "close" },
    agent: false,
  };
  if (t.url.username || t.url.password) {
    opts.auth = `${decodeURIComponent(t.url.username)}:${decodeURIComponent(t.url.password)}`;
  }
  let request: typeof httpRequest = httpRequest;
  if (t.kind === "https") {
    // TLS costs ~20 ms to load: only for https targets, so plain probes start fast.
    const https = process.getBuiltinModule("node:https") as typeof import("node:https");
    request = https.request as typeof httpRequest;
    let ca: Buffer | undefined;
    if (t.caFile) {
      try {
        ca = readRegularFile(t.caFile, 16 * 1024 * 1024).bytes; // non-blocking, regular files only: a FIFO must not hang the probe
      } catch (e) {
        return failed("tls", `cannot read CA file ${t.caFile} (${e instanceof FileReadError ? e.message : ((e as NodeJS.ErrnoException).code ?? "error")})`, false);
      }
    }
    Object.assign(opts, { rejectUnauthorized: !t.insecure, servername: isIp(host) ? undefined : host, ...(ca ? { ca } : {}) });
  }
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(failed("timeout", "timed out"));
    let req: ClientRequest;
    let settled = false;
    const finish = (a: Attempt) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      req.destroy();
      resolve(a);
    };
    const onAbort = () => finish(failed("timeout", "timed out waiting for an answer"));
    signal.addEventListener("abort", onAbort, { once: true });
    req = request(opts, (res) => judge(t, res, finish));
    req.once("error", (e) => finish(classifyError(e, host)));
    req.end();
  });
}

function judge(t: HttpTarget, res: IncomingMessage, finish: (a: Attempt) => void): void {
  const status = res.statusCode ?? 0;
  if (!t.statuses.some(([lo, hi]) => status >= lo && status <= hi)) {
    res.resume();
    return finish(failed("status", `status ${status}`));
  }
  if (t.body === undefined) {
    res.resume();
    return finish(passed(`status ${status}`));
  }
  const want = t.body;
  let seen = "";
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    // Keep a tail so a match split across chunks is still found.
    seen = (seen + chunk).slice(-Math.max(want.length * 2, 4096));
    if (seen.includes(want)) finish(passed(`status ${status}, body matched`));
    else if ((res.socket?.bytesRead ?? 0) > BODY_LIMIT) finish(failed("body", `body did not contain the expected text in the first ${BODY_LIMIT} bytes`));
  });
  res.once("end", () => finish(failed("body", `status ${status} but the body did not contain the expected text`)));
  res.once("error", (e) => finish(classifyError(e)));
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
