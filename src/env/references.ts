/**
 * References in env values (`DB_URL=file:///run/secrets/db_url`, `API_KEY=vault://...`) and in
 * the config file's `sources:`. Any scheme registered in sources/schemes.ts works here with
 * no change to this file.
 *
 * An env value that starts `word://` is one of three things:
 *   - a registered scheme: a reference, resolved (or the app does not start);
 *   - a well-known URL scheme (http, postgres, redis, ... plus --pass-scheme): a plain value;
 *   - anything else: an error. A typo (`vualt://`) must not reach the app as its password.
 */
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { knownSchemes, parseReference, sourceFor, type Reference } from "../sources/source.ts";
import type { SecretsOptions } from "./options.ts";
import { isOwnSetting } from "./var-file.ts";

export const URL_SCHEMES: ReadonlySet<string> = new Set([
  "http", "https", "ws", "wss", "ftp", "ftps", "sftp", "ssh", "git", "git+ssh", "git+https", "svn", "file+http",
  "postgres", "postgresql", "mysql", "mysqlx", "mariadb", "mssql", "sqlserver", "oracle", "sqlite", "jdbc", "cockroachdb",
  "redis", "rediss", "valkey", "memcached", "mongodb", "mongodb+srv", "cassandra", "couchbase", "couchbases", "clickhouse",
  "neo4j", "neo4j+s", "bolt", "elasticsearch", "opensearch", "influxdb", "amqp", "amqps", "mqtt", "mqtts", "nats", "kafka",
  "stomp", "tcp", "udp", "unix", "ldap", "ldaps", "smtp", "smtps", "imap", "imaps", "pop3", "pop3s", "s3", "gs", "gcs",
  "az", "abfs", "abfss", "wasb", "wasbs", "hdfs", "nfs", "grpc", "grpcs", "dns", "ntp", "socks4", "socks5", "socks5h",
  "etcd", "consul", "zookeeper", "zk", "rtmp", "rtsp", "sip", "irc", "xmpp", "ipfs", "docker", "npipe", "otlp",
]);

export interface PendingRef {
  /** The variable the value goes to. */
  name: string;
  kind: "reference" | "config";
  ref: Reference;
}

/** Checks run on every reference before anything is fetched (e.g. a `policy:` section's allow-list). */
export type ReferenceCheck = (ref: Reference, variable: string) => void;
const checks: ReferenceCheck[] = [];
export function addReferenceCheck(check: ReferenceCheck): void {
  checks.push(check);
}

const SCHEME_RE = /^([a-z][a-z0-9+.-]*):\/\//;
/** What a reference looks like to a reader: any case, blanks around it. */
const LOOSE_RE = /^\s*([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** `Vault://x`, ` file:///x`: a value a reader would take for a reference of a registered scheme. */
export function looksLikeReference(value: string): boolean {
  if (!value.includes("://")) return false;
  const m = LOOSE_RE.exec(value);
  return m !== null && knownSchemes().includes(m[1]!.toLowerCase());
}

export function findReferences(env: Record<string, string>, skip: ReadonlySet<string>, opts: Pick<SecretsOptions, "passSchemes" | "sources">): PendingRef[] {
  const out: PendingRef[] = [];
  const known = new Set(knownSchemes());
  const knownList = (): string => [...known].map((s) => `${s}://`).join(", ") || "none";
  for (const name of Object.keys(env).sort()) {
    const value = env[name]!;
    // includes() first: most values are not references, and the regex costs more to compile than to run
    if (!value.includes("://") || skip.has(name) || isOwnSetting(name)) continue;
    const m = SCHEME_RE.exec(value);
    if (m && value.trimEnd() === value) {
      const scheme = m[1]!;
      if (!known.has(scheme)) {
        if (URL_SCHEMES.has(scheme) || opts.passSchemes.has(scheme)) continue;
        throw new LatchkeyError("reference", ExitCode.CONFIG,
          `${name}: unknown reference scheme '${scheme}://' (known: ${knownList()});` +
            ` if this is a plain URL, pass it through with --pass-scheme ${scheme}`);
      }
      out.push({ name, kind: "reference", ref: parseReference(value, name)! });
      continue;
    }
    // Not written as a reference exactly: upper case (`Vault://`) or blanks around it
    // (` vault://`, a trailing newline from `$(cat file)`). The docs promise that a typo never
    // reaches the app as its password; these are typos too. The value is not quoted: it may be
    // the secret itself.
    const loose = LOOSE_RE.exec(value);
    if (!loose) continue;
    const scheme = loose[1]!.toLowerCase();
    if (!known.has(scheme) && (URL_SCHEMES.has(scheme) || opts.passSchemes.has(scheme))) continue;
    const how = loose[1] !== scheme ? "upper-case letters in its scheme" : "blanks before or after it";
    if (known.has(scheme)) {
      throw new LatchkeyError("reference", ExitCode.CONFIG,
        `${name}: looks like a ${scheme}:// reference but has ${how}; write the reference exactly (lower-case scheme, nothing before or after it)`);
    }
    throw new LatchkeyError("reference", ExitCode.CONFIG,
      `${name}: unknown reference scheme, written with ${how} (known: ${knownList()});` +
        " if this is a plain URL, pass its scheme through with --pass-scheme SCHEME");
  }
  for (const [name, raw] of opts.sources) out.push({ name, kind: "config", ref: parseReference(raw, `sources.${name}`)! });
  for (const p of out) for (const c of checks) c(p.ref, p.name);
  return out;
}

export interface Resolved {
  ref: PendingRef;
  value: Buffer;
  version?: string;
  /** `check` only: what was not done instead of fetching (FetchedSecret.planned). */
  planned?: string;
}

/** Fetch every reference, one batch per scheme, all schemes in parallel; all or nothing. */
export async function fetchReferences(pending: readonly PendingRef[], log: Logger, timeoutMs = 60_000): Promise<Resolved[]> {
  if (pending.length === 0) return [];
  const byScheme = new Map<string, PendingRef[]>();
  for (const p of pending) {
    const list = byScheme.get(p.ref.scheme) ?? [];
    list.push(p);
    byScheme.set(p.ref.scheme, list);
  }
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  timer.unref();
  const ctx = { log, deadline: Date.now() + timeoutMs, signal: ac.signal };
  try {
    const batches = await Promise.all([...byScheme].map(async ([scheme, list]) => {
      const src = await sourceFor(scheme);
      const refs = list.map((p) => p.ref);
      const got = await src.fetch(refs, ctx);
      return list.map((p, i): Resolved => {
        const f = got.find((g) => g.ref === p.ref) ?? got[i];
        if (!f) throw new LatchkeyError("internal", ExitCode.INTERNAL, `${scheme}:// source returned no value for ${p.ref.raw}`);
        return { ref: p, value: f.value, ...(f.version !== undefined ? { version: f.version } : {}), ...(f.planned ? { planned: f.planned } : {}) };
      });
    }));
    return batches.flat();
  } finally {
    // No abort on success: a provider may keep the signal for its lease renewals.
    clearTimeout(timer);
  }
}
