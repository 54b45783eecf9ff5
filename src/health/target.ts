/**
 * What a probe or a gate check points at, parsed once from a URL before anything starts:
 *
 *   tcp://HOST:PORT                 a TCP connect succeeds
 *   http(s)://HOST[:PORT]/PATH      a GET answers with an accepted status (and body)
 *   unix:///PATH.sock               a connect to a unix stream socket succeeds
 *   file:///PATH                    the file exists
 *
 * Per-check options go in the URL fragment, which HTTP never sends to the server, so the
 * path and query reach the server exactly as written:
 *
 *   http://cache:8080/health#status=200-299&body=ready&timeout=10s&ca=/etc/ca.pem&insecure
 */
import { parseDuration } from "../config/settings.ts";

export type TargetKind = "tcp" | "http" | "https" | "unix" | "file";

interface Common {
  raw: string;
  /** For reports: the URL without its fragment and with any password masked. */
  display: string;
  /** `#timeout=`: this check's own deadline (capped by the overall one). */
  timeoutMs?: number;
}
export interface TcpTarget extends Common {
  kind: "tcp";
  host: string;
  port: number;
}
export interface HttpTarget extends Common {
  kind: "http" | "https";
  url: URL;
  /** Accepted status ranges, inclusive. Default 200-399 (what curl -f and Kubernetes accept). */
  statuses: Array<[number, number]>;
  /** Substring the response body must contain (first 1 MiB). */
  body?: string;
  caFile?: string;
  /** Skip certificate verification; only when asked for explicitly. */
  insecure: boolean;
}
export interface PathTarget extends Common {
  kind: "unix" | "file";
  path: string;
}
export type Target = TcpTarget | HttpTarget | PathTarget;

/** Builds the error for a bad target; the caller knows whether it came from a flag, env or file. */
export type TargetError = (value: string, expected: string) => Error;

const ALL: readonly TargetKind[] = ["tcp", "http", "https", "unix", "file"];
const OPTIONS: Record<TargetKind, readonly string[]> = {
  tcp: ["timeout"],
  unix: ["timeout"],
  file: ["timeout"],
  http: ["timeout", "status", "body"],
  https: ["timeout", "status", "body", "ca", "insecure"],
};

export function parseTarget(raw: string, fail: TargetError, allowed: readonly TargetKind[] = ALL): Target {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  const examples = allowed.map((k) => EXAMPLES[k]).join(", ");
  if (!scheme || !(allowed as readonly string[]).includes(scheme)) {
    throw fail(raw, `expected a URL such as ${examples}`);
  }
  const kind = scheme as TargetKind;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(raw, `not a valid URL; expected a URL such as ${EXAMPLES[kind]}`);
  }
  const opts = fragmentOptions(url, raw, kind, fail);
  const timeoutMs = opts.has("timeout") ? duration(opts.get("timeout")!, raw, fail) : undefined;
  const common = { raw, display: displayOf(url), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };

  if (kind === "tcp") {
    const host = stripBrackets(url.hostname);
    const port = Number(url.port);
    if (!host || !url.port || !(port > 0 && port < 65536)) throw fail(raw, `expected tcp://HOST:PORT, e.g. ${EXAMPLES.tcp}`);
    if (url.pathname !== "" && url.pathname !== "/") throw fail(raw, "a tcp:// check takes no path");
    return { kind, host, port, ...common };
  }
  if (kind === "unix" || kind === "file") {
    if (url.host !== "") throw fail(raw, `expected an absolute path after ${kind}:// (three slashes), e.g. ${EXAMPLES[kind]}`);
    const path = decodeURIComponent(url.pathname);
    if (path === "" || path === "/") throw fail(raw, `no path; expected e.g. ${EXAMPLES[kind]}`);
    return { kind, path, ...common };
  }
  if (!url.hostname) throw fail(raw, `no host; expected e.g. ${EXAMPLES[kind]}`);
  const statuses = opts.getAll("status").map((s) => statusRange(s, raw, fail));
  const body = opts.get("body");
  const caFile = opts.get("ca");
  const insecureRaw = opts.get("insecure");
  if (insecureRaw !== null && insecureRaw !== "" && insecureRaw !== "true") throw fail(raw, "'insecure' takes no value");
  const insecure = insecureRaw !== null;
  if (insecure && caFile) throw fail(raw, "give either 'ca' or 'insecure', not both");
  const target: HttpTarget = { kind, url, statuses: statuses.length ? statuses : [[200, 399]], insecure, ...common };
  if (body !== null) {
    if (body === "") throw fail(raw, "'body' needs the text the response must contain");
    target.body = body;
  }
  if (caFile !== null) {
    if (caFile === "") throw fail(raw, "'ca' needs a PEM file path");
    target.caFile = caFile;
  }
  return target;
}

const EXAMPLES: Record<TargetKind, string> = {
  tcp: "tcp://db:5432",
  http: "http://cache:8080/health",
  https: "https://api:8443/health",
  unix: "unix:///run/app.sock",
  file: "file:///run/ready",
};

function fragmentOptions(url: URL, raw: string, kind: TargetKind, fail: TargetError): URLSearchParams {
  const hash = url.hash.replace(/^#/, "");
  url.hash = "";
  const opts = new URLSearchParams(hash);
  for (const k of new Set(opts.keys())) {
    if (!OPTIONS[kind].includes(k)) throw fail(raw, `unknown option '#${k}' for ${kind}:// (known: ${OPTIONS[kind].join(", ")})`);
    if (k !== "status" && opts.getAll(k).length > 1) throw fail(raw, `option '${k}' given twice`);
  }
  return opts;
}

function duration(v: string, raw: string, fail: TargetError): number {
  const ms = parseDuration(v);
  if (ms === null || ms <= 0) throw fail(raw, `timeout '${v}' is not a duration such as 500ms, 5s or 2m`);
  return ms;
}

function statusRange(v: string, raw: string, fail: TargetError): [number, number] {
  const m = /^(\d{3})(?:-(\d{3}))?$/.exec(v.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || lo < 100 || hi > 599 || lo > hi) throw fail(raw, `status '${v}' is not a status or range such as 200 or 200-299`);
  return [lo, hi];
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Reports and logs show the URL without the fragment and without a password. */
function displayOf(url: URL): string {
  const u = new URL(url.href);
  u.hash = "";
  if (u.password) u.password = "***";
  return u.href;
}
