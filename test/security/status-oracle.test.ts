/**
 * Issue #12, finding 4: the status endpoint must not be a redaction oracle. The old 404 body
 * echoed the request path through the redactor, so `GET /<guess>` answered `[redacted]` exactly
 * when the guess was a loaded secret (1.68 million four-character values in 672 requests).
 *
 * The attack, for real: a supervised latchkey with a planted secret and --status-addr on
 * 127.0.0.1; raw HTTP requests carry the secret (and its encoded forms) as path, query, header
 * value, header name, and body, and the same requests carry a non-secret of the same length.
 * Each pair of answers must be byte-identical (the Date header and the clock fields aside: they
 * change between any two requests) and no answer may contain any of the request's own text.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { start } from "../helpers/run.ts";
import { LATCHKEY } from "../helpers/paths.ts";
import { cleanEnv, freePort, get, tmp, until } from "../integration/gate/net.ts";

// Four characters: the length the old oracle enumerated. Its neighbour differs in one character.
const SECRET = "q7Zx";
const OTHER = "q7Zy";
const LONG_SECRET = "status-oracle-canary-5e1d";
const LONG_OTHER = "status-oracle-canary-5e1e";

let port = 0;
let run: ReturnType<typeof start>;

beforeAll(async () => {
  const dir = join(tmp(), "secrets");
  mkdirSync(dir);
  writeFileSync(join(dir, "short_key"), SECRET);
  writeFileSync(join(dir, "long_key"), LONG_SECRET);
  port = await freePort();
  run = start(LATCHKEY, ["--secrets-dir", dir, "--status-addr", `127.0.0.1:${port}`, "--", "sleep", "60"], {
    env: cleanEnv({ HOME: tmp() }),
  });
  await until(async () => (await get(`http://127.0.0.1:${port}/health`)).status === 200 || undefined, "status endpoint ready");
});

afterAll(async () => {
  run.proc.kill("SIGTERM");
  await run.done;
});

/** One request written by hand (so nothing normalises it), the whole answer read back. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port });
    let out = "";
    sock.setEncoding("latin1");
    sock.setTimeout(10_000, () => sock.destroy(new Error("no answer within 10 s")));
    sock.on("data", (d: string) => (out += d));
    sock.once("end", () => resolve(out));
    sock.once("error", reject);
    sock.write(request, "latin1");
  });
}

/** What may differ between two requests for reasons that have nothing to do with their text. */
function timeless(answer: string): string {
  return answer
    .replace(/^date: .*\r\n/im, "")
    .replace(/"uptimeMs":\d+/g, '"uptimeMs":0')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "T")
    .replace(/^content-length: \d+\r\n/im, "");
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const enc = (s: string): string => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");

/** Requests that place `v` everywhere a client can put text. */
const shapes: Array<[string, (v: string) => string]> = [
  ["path", (v) => `GET /${v} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["path under /health", (v) => `GET /health/${v} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["percent-encoded path", (v) => `GET /${enc(v)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["base64 path", (v) => `GET /${b64(v)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["query on a known route", (v) => `GET /health/liveness?${v}=${v} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["query on an unknown route", (v) => `GET /nope?q=${v} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["header value", (v) => `GET /health/liveness HTTP/1.1\r\nHost: x\r\nX-Guess: ${v}\r\nConnection: close\r\n\r\n`],
  ["header name", (v) => `GET /health/startup HTTP/1.1\r\nHost: x\r\nX-${v}: 1\r\nConnection: close\r\n\r\n`],
  ["host header", (v) => `GET /health HTTP/1.1\r\nHost: ${v}\r\nConnection: close\r\n\r\n`],
  ["method not allowed, body", (v) => `POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: ${v.length}\r\nConnection: close\r\n\r\n${v}`],
  ["method not allowed, path", (v) => `DELETE /${v} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ["HEAD of an unknown path", (v) => `HEAD /${v} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
];

describe("status endpoint: no redaction oracle (issue #12, finding 4)", () => {
  for (const [what, shape] of shapes) {
    for (const [secret, other] of [[SECRET, OTHER], [LONG_SECRET, LONG_OTHER]] as const) {
      it(`${what}, ${secret.length} characters: the secret and a non-secret get the same answer`, async () => {
        const a = await raw(shape(secret));
        const b = await raw(shape(other));
        expect(a.startsWith("HTTP/1.1 "), "an HTTP answer").toBe(true);
        // Booleans, not the answers: a failure message must not print what it is about.
        expect(a.includes("[redacted]"), "the answer to the secret mentions [redacted]").toBe(false);
        expect(timeless(a) === timeless(b), "the answers to the secret and to its neighbour differ").toBe(true);
        for (const v of [secret, other, b64(secret), enc(secret)]) {
          expect(a.includes(v) || b.includes(v), `the answer quotes the request (${what})`).toBe(false);
        }
      });
    }
  }

  it("an unknown path answers the same whatever it is, byte for byte (Date aside); so do odd ones", async () => {
    const answers = new Set<string>();
    for (const p of ["/q7Zx", "/q7Zy", "/aaaa", "/__proto__", "/constructor", "/toString", "/" + "/".repeat(2000) + "x", "/health/x"]) {
      answers.add((await raw(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).replace(/^date: .*\r\n/im, ""));
    }
    expect(answers.size).toBe(1);
    expect([...answers][0]).toMatch(/^HTTP\/1\.1 404 /);
  });
});

/**
 * The same oracle without any request text: the answer's own numbers and times. They change
 * as the peer watches (uptime, pid, every timestamp's year), so when the whole body went
 * through the redactor, `"uptimeMs":[redacted]` or `"startedAt":"[redacted]-12-..."` told a
 * polling peer which four-digit values were secrets (a PIN, a port) and broke the JSON.
 * Planted here: every value from 1000 to 9999 (one JSON secret fanned out), so any uptime over
 * a second, any pid of four digits or more and any timestamp contain a planted value.
 */
describe("status endpoint: latchkey's own numbers and times are never redacted (issue #12, finding 4)", () => {
  it("every four-digit value a secret: the body is valid JSON, no field masked, numbers and times intact", async () => {
    const dir = join(tmp(), "secrets");
    mkdirSync(dir);
    const all: Record<string, string> = {};
    for (let n = 1000; n <= 9999; n++) all[`PIN_${n}`] = String(n);
    writeFileSync(join(dir, "pins"), JSON.stringify(all));
    const p = await freePort();
    const r = start(LATCHKEY, ["--secrets-dir", dir, "--expand", "pins=json", "--max-size", "1MiB", "--status-addr", `127.0.0.1:${p}`, "--", "sleep", "60"], {
      env: cleanEnv({ HOME: tmp() }),
    });
    try {
      // Past one second of uptime, so uptimeMs has four digits.
      const text = await until(async () => {
        const res = await fetch(`http://127.0.0.1:${p}/health`, { signal: AbortSignal.timeout(10_000) });
        const t = await res.text();
        return res.status === 200 && /"uptimeMs":(\d{4,}|\[)/.test(t) ? t : undefined;
      }, "running, uptime over a second", 30_000);
      expect(text.includes("[redacted]"), "a field of latchkey's own was masked").toBe(false);
      const body = JSON.parse(text) as { uptimeMs: number; app: { pid: number; startedAt: string } };
      expect(body.uptimeMs).toBeGreaterThanOrEqual(1000);
      expect(body.app.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(body.app.pid).toBeGreaterThan(0);
    } finally {
      r.proc.kill("SIGTERM");
      await r.done;
    }
  });
});
