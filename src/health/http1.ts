/**
 * The common probe — plain http, judged on the status alone — without node:http: a GET
 * written by hand on a socket and the status line read back. node:http and its parser cost
 * a few milliseconds to load, and `latchkey health` runs every few seconds in every
 * container (bench/benchmarks/health.ts measures it). Body matching and https keep using
 * node:http(s) (http.ts), where chunked bodies and TLS need the real thing.
 */
import { connect } from "node:net";
import { classifyError, failed, passed, type Attempt } from "./outcome.ts";
import type { HttpTarget } from "./target.ts";

/** A status line and the headers of interim 1xx answers fit in this; more is not HTTP we want. */
const HEAD_LIMIT = 16 * 1024;

export function probeHttpStatus(t: HttpTarget, signal: AbortSignal): Promise<Attempt> {
  const host = t.url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(t.url.port || 80);
  const lines = [
    `GET ${t.url.pathname}${t.url.search} HTTP/1.1`,
    `Host: ${t.url.host}`,
    "User-Agent: latchkey-health",
    "Accept: */*",
    "Connection: close",
  ];
  if (t.url.username || t.url.password) {
    const cred = `${decodeURIComponent(t.url.username)}:${decodeURIComponent(t.url.password)}`;
    lines.push(`Authorization: Basic ${Buffer.from(cred).toString("base64")}`);
  }
  const request = lines.join("\r\n") + "\r\n\r\n";

  return new Promise((resolve) => {
    if (signal.aborted) return resolve(failed("timeout", "timed out"));
    const sock = connect({ host, port });
    let head = "";
    let settled = false;
    const finish = (a: Attempt) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      resolve(a);
    };
    const onAbort = () => finish(failed("timeout", "timed out waiting for an answer"));
    signal.addEventListener("abort", onAbort, { once: true });
    sock.setEncoding("latin1");
    sock.once("connect", () => sock.write(request));
    sock.on("data", (chunk: string) => {
      head += chunk;
      const status = finalStatus(head);
      if (status === "bad") return finish(failed("error", "the answer is not HTTP/1.x"));
      if (status !== null) return finish(judge(t, status));
      if (head.length > HEAD_LIMIT) finish(failed("error", "no final status line in the first 16 KiB"));
    });
    sock.once("end", () => finish(failed("reset", "connection closed before a status line")));
    sock.once("error", (e) => finish(classifyError(e, host)));
  });
}

/**
 * The final status from the text read so far: null when more is needed, "bad" when this is
 * not HTTP. Interim 1xx answers (103 Early Hints) are skipped; 101 cannot happen without an
 * Upgrade header.
 */
export function finalStatus(text: string): number | null | "bad" {
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol === -1) return "HTTP/".startsWith(rest.slice(0, 5)) ? null : "bad";
    const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/.exec(rest.slice(0, eol));
    if (!m) return "bad";
    const status = Number(m[1]);
    if (status >= 200 || status < 100) return status;
    const end = rest.indexOf("\r\n\r\n");
    if (end === -1) return null;
    rest = rest.slice(end + 4);
    if (rest === "") return null;
  }
}

function judge(t: HttpTarget, status: number): Attempt {
  return t.statuses.some(([lo, hi]) => status >= lo && status <= hi) ? passed(`status ${status}`) : failed("status", `status ${status}`);
}
