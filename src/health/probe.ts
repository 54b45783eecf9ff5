/**
 * One attempt at one target, bounded in time. The gate retries it; `latchkey health` runs
 * it once.
 */
import { failed, type Attempt } from "./outcome.ts";
import type { Target } from "./target.ts";

export interface ProbeOptions {
  timeoutMs: number;
  /** Aborts the attempt early (the gate was interrupted). */
  signal?: AbortSignal;
}

export async function probe(t: Target, opts: ProbeOptions): Promise<Attempt> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), Math.max(1, opts.timeoutMs));
  const signal = opts.signal ? AbortSignal.any([timeout.signal, opts.signal]) : timeout.signal;
  try {
    const a = await attempt(t, signal);
    if (!a.ok && a.reason === "timeout") return failed("timeout", `no answer within ${formatMs(opts.timeoutMs)}`);
    return a;
  } catch (e) {
    return failed("error", e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Each kind's module (and node:net / node:http behind it) is loaded on first use: a run
 * without waits pays nothing for them, and `latchkey health tcp://` does not load HTTP.
 */
async function attempt(t: Target, signal: AbortSignal): Promise<Attempt> {
  switch (t.kind) {
    case "tcp":
      return (await import("./socket.ts")).probeSocket({ host: t.host, port: t.port }, signal, t.host);
    case "unix":
      return (await import("./socket.ts")).probeSocket({ path: t.path }, signal);
    case "http":
      if (t.body === undefined) return (await import("./http1.ts")).probeHttpStatus(t, signal);
      return (await import("./http.ts")).probeHttp(t, signal);
    case "https":
      return (await import("./http.ts")).probeHttp(t, signal);
    case "file":
      return (await import("./file.ts")).probeFile(t.path);
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${s % 60}s`;
}
