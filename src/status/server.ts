/**
 * The optional status endpoint (--status-addr), served by the supervisor for container
 * orchestrators:
 *
 *   /health            200 when the app is live and ready (Docker HEALTHCHECK, load balancers)
 *   /health/liveness   200 while latchkey and the app are alive (starting counts as alive)
 *   /health/readiness  200 when the app runs and its --ready probe (if any) passes
 *   /health/startup    200 once the gate passed and the app was started
 *
 * Every answer is JSON with the same facts (phase, gate checks, app pid/restarts/last exit,
 * secret freshness per source — never values); its free-text fields are redacted once more
 * before it is sent.
 *
 * Nothing a client sends is ever part of an answer, and none of it passes through the
 * redactor: an earlier 404 body quoted the request path, redacted, so `GET /<guess>` answered
 * `[redacted]` exactly when the guess was a loaded secret (issue #12: every four-character value
 * in 672 requests). The request picks one of the fixed answers below, nothing more: an unknown
 * path or method gets a constant body, and a known route's body is built from latchkey's own
 * state alone: nothing in an answer's bytes, length or timing depends on whether the request
 * held a secret.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { redactor } from "../log/redact.ts";
import { probe } from "../health/probe.ts";
import type { Attempt } from "../health/outcome.ts";
import type { Target } from "../health/target.ts";
import type { Addr } from "./addr.ts";
import type { StatusState } from "./state.ts";
import { now } from "../platform/clock.ts";

/** A kubelet or HEALTHCHECK polling every second gets one probe of the app, not one each. */
const READY_CACHE_MS = 1_000;
const READY_TIMEOUT_MS = 2_000;

type Check = "health" | "liveness" | "readiness" | "startup";
/** A Map, not an object literal: `/__proto__` or `/constructor` must not find a route. */
const ROUTES: ReadonlyMap<string, Check> = new Map([
  ["/health", "health"],
  ["/health/liveness", "liveness"],
  ["/health/readiness", "readiness"],
  ["/health/startup", "startup"],
]);
/** Constant answers: no request text in them, and not redacted (nothing in them is ours to hide). */
const NOT_FOUND = JSON.stringify({ error: `no such endpoint; try ${[...ROUTES.keys()].join(", ")}` }) + "\n";
const NOT_ALLOWED = JSON.stringify({ error: "only GET and HEAD" }) + "\n";

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

interface ReadyResult {
  url: string;
  ok: boolean;
  reason: string;
  detail: string;
  checkedAt: string;
}

export async function startStatusServer(addr: Addr, state: StatusState, log: Logger, ready?: Target): Promise<StatusServer> {
  const readiness = ready ? readyProber(ready) : undefined;
  const server = createServer((req, res) => {
    handle(req, res, state, readiness).catch((e: unknown) => {
      log.warn("status endpoint: request failed", { error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 2_000;
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  await listen(server, addr);
  const port = (server.address() as { port: number }).port;
  log.info("status endpoint listening", { addr: `${addr.host}:${port}` });
  return {
    port,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function listen(server: Server, addr: Addr): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      const why = e.code === "EADDRINUSE" ? "address already in use" : e.code === "EACCES" ? "permission denied" : e.code === "EADDRNOTAVAIL" ? "no such local address" : e.message;
      reject(new LatchkeyError("os", ExitCode.OS, `--status-addr ${addr.host}:${addr.port}: cannot listen: ${why}`));
    });
    server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => resolve());
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, state: StatusState, readiness?: () => Promise<ReadyResult>): Promise<void> {
  const check = route(req.url ?? "/");
  if (!check) return sendText(res, req, 404, NOT_FOUND);
  if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, req, 405, NOT_ALLOWED, { allow: "GET, HEAD" });

  const snap = state.snapshot();
  const live = snap.phase === "starting" || snap.phase === "running";
  const needReady = check === "readiness" || check === "health";
  const readyProbe = needReady && readiness && state.appRunning ? await readiness() : undefined;
  const isReady = state.appRunning && snap.phase === "running" && (readyProbe?.ok ?? true);
  const ok = check === "liveness" ? live : check === "startup" ? state.started : check === "readiness" ? isReady : live && isReady;
  const status = snap.phase === "running" ? (isReady ? "ready" : "not ready") : snap.phase;
  send(res, req, ok ? 200 : 503, {
    check,
    ok,
    status,
    ...snap,
    ...(readyProbe ? { ready: readyProbe } : {}),
  });
}

/**
 * The route a request target names: its path without the query and without trailing slashes.
 * A loop, not /\/+$/: that regex backtracks quadratically on a long run of slashes, and the
 * request target is the client's (up to the 16 KiB header limit).
 */
function route(target: string): Check | undefined {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 0x2f) end--;
  return ROUTES.get(path.slice(0, end));
}

/**
 * String fields latchkey fills itself: times it took from the clock, and states, stages and
 * reasons from its own vocabulary. They hold no secret, and redacting them would be an oracle
 * of its own: when the whole body went through the redactor, a secret `2026` masked the year
 * of every timestamp and a secret `5123` masked `"uptimeMs":5123` (breaking the JSON), so a
 * peer that polls and knows the clock learnt which numbers were secrets (a PIN, a port).
 */
const OWN_STRINGS: ReadonlySet<string> = new Set([
  "check", "status", "phase", "state", "stage", "reason", "signal",
  "startedAt", "at", "checkedAt", "lastSuccessAt", "lastErrorAt", "lastCheckAt", "lastChangeAt",
]);

/**
 * A route's answer: latchkey's own state, never anything from the request. Only the strings
 * that can carry configured or reported text (check names, details, error messages, variable
 * names) are redacted, one by one; numbers, booleans and OWN_STRINGS never are.
 */
function send(res: ServerResponse, req: IncomingMessage, code: number, body: unknown): void {
  sendText(res, req, code, JSON.stringify(body, redactText) + "\n");
}

function redactText(key: string, value: unknown): unknown {
  return typeof value === "string" && !OWN_STRINGS.has(key) ? redactor.redact(value) : value;
}

function sendText(res: ServerResponse, req: IncomingMessage, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(req.method === "HEAD" ? undefined : text);
}

function readyProber(t: Target): () => Promise<ReadyResult> {
  let cached: { at: number; result: ReadyResult } | undefined;
  let inflight: Promise<ReadyResult> | undefined;
  return () => {
    if (cached && now() - cached.at < READY_CACHE_MS) return Promise.resolve(cached.result);
    inflight ??= probe(t, { timeoutMs: t.timeoutMs ?? READY_TIMEOUT_MS }).then((a: Attempt) => {
      const result = { url: t.display, ok: a.ok, reason: a.reason, detail: a.detail, checkedAt: new Date().toISOString() };
      cached = { at: now(), result };
      inflight = undefined;
      return result;
    });
    return inflight;
  };
}
