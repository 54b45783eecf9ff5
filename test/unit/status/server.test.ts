/**
 * The status server in process: no answer carries request text, so the process-wide redactor
 * can never be asked about a client's guess (issue #12, finding 4). The attack on the built
 * binary is test/security/status-oracle.test.ts; this pins the rules down one by one.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Logger } from "../../../src/log/logger.ts";
import { redactor } from "../../../src/log/redact.ts";
import { startStatusServer, type StatusServer } from "../../../src/status/server.ts";
import { StatusState } from "../../../src/status/state.ts";
import { classifyError } from "../../../src/health/outcome.ts";

const SECRET = "unit-status-oracle-secret-4b7a";
let server: StatusServer;

const YEAR = String(new Date().getUTCFullYear());
const PID = "4242";

beforeAll(async () => {
  redactor.add(SECRET);
  // Numeric secrets that latchkey's own fields would spell: the year of every timestamp, the app's pid.
  redactor.add(YEAR);
  redactor.add(PID);
  const state = new StatusState();
  const hook = `sh -c 'test "$X" = ${SECRET}'`;
  state.gateDone([{ stage: "pre-start", ok: true, ms: 1, items: [{ name: hook, state: "passed", reason: "ok", cause: "exited 0", detail: "exited 0", ms: 1 }] }], 1, true);
  state.onEvent({ type: "started", pid: 4242 });
  server = await startStatusServer({ host: "127.0.0.1", port: 0 }, state, new Logger(-1));
});
afterAll(() => server.close());

function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port: server.port });
    let out = "";
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => (out += d));
    sock.once("end", () => resolve(out.replace(/^date: .*\r\n/im, "")));
    sock.once("error", reject);
    sock.write(request, "latin1");
  });
}
const get = (target: string, method = "GET", extra = ""): Promise<string> =>
  raw(`${method} ${target} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`);

describe("status server answers", () => {
  it("404: one constant answer for every unknown path, whatever it holds", async () => {
    const a = await get(`/${SECRET}`);
    expect(a).toMatch(/^HTTP\/1\.1 404 /);
    expect(a.includes("[redacted]")).toBe(false);
    for (const p of ["/x", `/${SECRET.replace("4b7a", "4b7b")}`, `/%${SECRET}`, "/__proto__", "/constructor", "/hasOwnProperty", "http://x/health"]) {
      expect(await get(p), p).toBe(a);
    }
  });

  it("405: one constant answer for every method and body", async () => {
    const post = await raw(`POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: ${SECRET.length}\r\nConnection: close\r\n\r\n${SECRET}`);
    expect(post).toMatch(/^HTTP\/1\.1 405 /);
    expect(post.includes(SECRET) || post.includes("[redacted]")).toBe(false);
    for (const [m, p] of [["PUT", "/health/startup"], ["DELETE", "/health"], ["PATCH", "/health/liveness"]] as const) {
      expect(await get(p, m), `${m} ${p}`).toBe(post);
    }
  });

  it("a route: the query and the headers change nothing but the clock", async () => {
    const norm = (s: string) => s.replace(/"uptimeMs":\d+/, "").replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "T").replace(/content-length: \d+\r\n/i, "");
    const plain = norm(await get("/health/liveness"));
    expect(plain).toMatch(/^HTTP\/1\.1 200 /);
    expect(norm(await get(`/health/liveness?${SECRET}=${SECRET}`, "GET", `X-Guess: ${SECRET}\r\n`))).toBe(plain);
    expect(norm(await get("/health/liveness///"))).toBe(plain);
  });

  it("a long run of slashes is answered at once (no backtracking regex on the path)", async () => {
    const t0 = performance.now();
    const a = await get("/" + "/".repeat(12_000) + "x");
    expect(a).toMatch(/^HTTP\/1\.1 404 /);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe("status server body", () => {
  it("latchkey's own numbers and times are never redacted; configured text still is", async () => {
    const a = await get("/health/startup");
    const body = JSON.parse(a.slice(a.indexOf("\r\n\r\n") + 4)) as { app: { pid: number; startedAt: string }; gate: { checks: Array<{ name: string }> } };
    expect(body.app.pid).toBe(Number(PID));
    expect(body.app.startedAt.startsWith(`${YEAR}-`)).toBe(true);
    expect(body.gate.checks[0]!.name).toBe(`sh -c 'test "$X" = [redacted]'`);
  });
});

describe("probe details quote no text the peer chose", () => {
  it("a TLS altname mismatch names our host, not the certificate's names", () => {
    const e = Object.assign(new Error(`Hostname/IP does not match certificate's altnames: Host: api. is not in the cert's altnames: DNS:${SECRET}`), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
    const a = classifyError(e, "api");
    expect(a).toMatchObject({ ok: false, reason: "tls", retryable: false });
    expect(a.detail).toBe("TLS: the certificate does not name api (ERR_TLS_CERT_ALTNAME_INVALID)");
  });
});
