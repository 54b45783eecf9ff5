/**
 * Servers for gate, health and status tests: real listeners on 127.0.0.1 with ephemeral
 * ports, opened and closed by the tests (and closed after each file if a test forgot).
 */
import { createServer as createHttp, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createTcp, type Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const open = new Set<Server | HttpServer>();
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all([...open].map((s) => close(s)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "latchkey-gate-"));
  dirs.push(d);
  return d;
}

export { freePort } from "../../servers/ports.ts";

export async function tcpListen(port = 0, path?: string): Promise<{ port: number; close: () => Promise<void> }> {
  const s = createTcp((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    if (path) s.listen(path, resolve);
    else s.listen(port, "127.0.0.1", resolve);
  });
  open.add(s);
  return { port: path ? 0 : (s.address() as { port: number }).port, close: () => close(s) };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function httpListen(handler: Handler, port = 0): Promise<{ port: number; url: string; close: () => Promise<void> }> {
  const s = createHttp(handler);
  s.keepAliveTimeout = 100;
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, "127.0.0.1", resolve);
  });
  open.add(s);
  const p = (s.address() as { port: number }).port;
  return { port: p, url: `http://127.0.0.1:${p}`, close: () => close(s) };
}

function close(s: Server | HttpServer): Promise<void> {
  open.delete(s);
  if ("closeAllConnections" in s) s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

/** GET a URL; the status code and parsed JSON body (or text). */
export async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A minimal environment: the machine's own variables (e.g. *_FILE ones) must not leak in. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra };
}
