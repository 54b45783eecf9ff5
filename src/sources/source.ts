/**
 * The one interface every secret source implements (file, aws-sm, vault, in-memory for
 * tests), and the registry of reference schemes. Provider code is loaded lazily: a scheme
 * registers a loader, and the module behind it is imported only when a reference with that
 * scheme is actually used — with no provider configured, startup pays nothing for them.
 *
 * Reference syntax (in env values and the config file):
 *
 *   SCHEME://LOCATOR[?param=value&...][#key]
 *
 *   file:///run/secrets/db_url
 *   aws-sm://prod/db?version-stage=AWSPREVIOUS#password
 *   vault://secret/data/app?version=3#api_key
 *
 * `#key` selects one key of a JSON object secret. An unknown scheme is an error, never a
 * pass-through: a typo must not start the app with the literal reference as its password.
 */
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/settings.ts";

export interface Reference {
  /** The text as written, e.g. `vault://secret/data/app#api_key`. Safe to log: names, no values. */
  raw: string;
  scheme: string;
  /** Everything between `SCHEME://` and `?`/`#`, percent-decoded. */
  locator: string;
  params: Record<string, string>;
  /** JSON key selected with `#key`, when given. */
  key?: string;
}

export interface FetchedSecret {
  ref: Reference;
  /** The secret's bytes as stored (a JSON object stays JSON here; `#key` selection is the env layer's job). */
  value: Buffer;
  /** Provider version id (AWS VersionId, Vault KV version, file mtime+inode...) for change detection. */
  version?: string;
  /** Vault leases: renewed while the app runs, revoked on exit. */
  lease?: { id: string; durationSec: number; renewable: boolean };
  /** `check` only: what would have been fetched instead (e.g. "would write pki/issue/web"); the value is empty. */
  planned?: string;
}

export interface SourceContext {
  log: Logger;
  /** Absolute time (ms since epoch) after which fetching must give up. */
  deadline: number;
  signal: AbortSignal;
  /** The run's layered settings (provider options such as --vault-addr, --policy). Sources fall back to the process env without it. */
  settings?: Settings;
}

export interface SecretSource {
  readonly scheme: string;
  /**
   * Fetch every reference, all or nothing: either every ref resolves, or this throws a
   * LatchkeyError naming the failing reference(s) (never a value). The app never starts
   * with a partial set.
   */
  fetch(refs: readonly Reference[], ctx: SourceContext): Promise<FetchedSecret[]>;
  /**
   * Optional, for rotation polling (src/watch/versions.ts): the provider's *current* version
   * id of each reference, without fetching values — as cheap as the provider allows (AWS:
   * DescribeSecret, the VersionId staged AWSCURRENT or the ref's version-stage; Vault KV v2:
   * GET the metadata path, `current_version`; file: inode+mtime, see src/watch/file-state.ts).
   * Same order as `refs`, comparable with `FetchedSecret.version` from `fetch`; `undefined`
   * where the source cannot tell (a KV v1 path, a dynamic secret): rotation then re-fetches
   * and compares content. A pinned ref (`?version=3`, `?version-id=`) may return its pin.
   * Throws like `fetch` when the provider cannot be reached (rotation backs off, keeps the app).
   * Without this method, every poll re-fetches the source's refs and compares the values.
   * Leased (dynamic) secrets: return the lease id while the lease is valid and renewable and
   * something else once it nears its end (max TTL, renewal refused) — a fetch would mint new
   * credentials, and rotation must re-fetch exactly when the old ones are about to die.
   */
  versions?(refs: readonly Reference[], ctx: SourceContext): Promise<(string | undefined)[]>;
  /** Release resources (renewal timers, tokens created by latchkey, leases). Idempotent. */
  close?(): Promise<void>;
}

let runSettings: Settings | undefined;
/** main.ts hands over the run's settings once loaded; providers read their options (--vault-addr, --policy...) from them. */
export function setRunSettings(s: Settings): void {
  runSettings = s;
}
export function getRunSettings(): Settings | undefined {
  return runSettings;
}

type Loader = () => Promise<SecretSource> | SecretSource;
const loaders = new Map<string, Loader>();
const instances = new Map<string, SecretSource>();

export function registerScheme(scheme: string, loader: Loader): void {
  loaders.set(scheme, loader);
}

export function knownSchemes(): string[] {
  return [...loaders.keys()].sort();
}

export async function sourceFor(scheme: string): Promise<SecretSource> {
  const existing = instances.get(scheme);
  if (existing) return existing;
  const loader = loaders.get(scheme);
  if (!loader) throw unknownScheme(scheme);
  const loaded = await loader();
  const src = decorate ? decorate(loaded) : loaded;
  instances.set(scheme, src);
  return src;
}

const leaseListeners = new Set<(ref: string) => void>();
/**
 * A source calls this when a leased secret it handed out must be read again: its lease
 * reached its max TTL, or renewal was refused. `ref` is the reference text (`Reference.raw`).
 * Rotation re-reads it (new credentials) and restarts or signals the app before the old
 * credentials die. Safe to call when nobody listens (exec mode, `check`).
 */
export function leaseEnding(ref: string): void {
  for (const l of leaseListeners) l(ref);
}
export function onLeaseEnding(listener: (ref: string) => void): () => void {
  leaseListeners.add(listener);
  return () => leaseListeners.delete(listener);
}

let decorate: ((src: SecretSource) => SecretSource) | null = null;
/**
 * Wrap every source instance created from now on. Rotation (src/watch/source-cache.ts) uses
 * it so that a reload reuses values whose provider version did not change, and never
 * re-reads a leased (dynamic) secret before its lease ends — a re-read would mint new
 * credentials and restart the app for nothing. Call before the first fetch.
 */
export function decorateSources(fn: (src: SecretSource) => SecretSource): void {
  decorate = fn;
}

export async function closeSources(): Promise<void> {
  await Promise.allSettled([...instances.values()].map((s) => s.close?.()));
}

function unknownScheme(scheme: string): LatchkeyError {
  return new LatchkeyError("reference", ExitCode.CONFIG,
    `unknown reference scheme '${scheme}://' (known: ${knownSchemes().map((s) => `${s}://`).join(", ") || "none"})`);
}

const REF_RE = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/s;

/** Does this value look like a reference at all (`word://...`)? */
export function looksLikeReference(value: string): boolean {
  return REF_RE.test(value);
}

/**
 * Parse `SCHEME://LOCATOR[?q][#key]`. Returns null for values that are not references; throws
 * a CONFIG error for malformed ones and for unknown schemes (`where` names the variable).
 * Never throws anything but LatchkeyError, whatever the input.
 */
export function parseReference(raw: string, where: string, opts: { checkScheme?: boolean } = {}): Reference | null {
  const m = REF_RE.exec(raw);
  if (!m) return null;
  const scheme = m[1]!;
  if (opts.checkScheme !== false && !loaders.has(scheme)) {
    const e = unknownScheme(scheme);
    throw new LatchkeyError(e.code, e.exitCode, `${where}: ${e.message}`);
  }
  let rest = m[2]!;
  let key: string | undefined;
  const hash = rest.indexOf("#");
  if (hash !== -1) {
    key = decode(rest.slice(hash + 1), raw, where);
    rest = rest.slice(0, hash);
    if (key === "") throw malformed(raw, where, "empty key after '#'");
  }
  const params: Record<string, string> = {};
  const q = rest.indexOf("?");
  if (q !== -1) {
    for (const pair of rest.slice(q + 1).split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const k = decode(eq === -1 ? pair : pair.slice(0, eq), raw, where);
      if (k === "") throw malformed(raw, where, "empty parameter name");
      if (k in params) throw malformed(raw, where, `parameter '${k}' given twice`);
      params[k] = eq === -1 ? "" : decode(pair.slice(eq + 1), raw, where);
    }
    rest = rest.slice(0, q);
  }
  const locator = decode(rest, raw, where);
  if (locator === "" || locator === "/") throw malformed(raw, where, "nothing after '://'");
  return { raw, scheme, locator, params, ...(key !== undefined ? { key } : {}) };
}

function decode(s: string, raw: string, where: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw malformed(raw, where, "bad percent-encoding");
  }
}

function malformed(raw: string, where: string, why: string): LatchkeyError {
  return new LatchkeyError("reference", ExitCode.CONFIG, `${where}: malformed reference '${raw}': ${why}`);
}
