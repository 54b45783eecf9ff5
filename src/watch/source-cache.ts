/**
 * Between loads, each source remembers what it fetched, so that a reload (rotation) fetches
 * only what changed and never re-reads a leased secret early:
 *
 * - a ref with a provider version is reused when the source's cheap `versions()` reports the
 *   same version (AWS: DescribeSecret instead of GetSecretValue);
 * - a leased (dynamic) secret is reused while its lease lives: reading it again would mint
 *   new credentials (a different value, so a restart for nothing, and one more lease). A
 *   non-renewable lease is re-read once two thirds of it have passed; a renewable one is kept
 *   alive by its source, and is re-read when the source's `versions()` stops answering the
 *   lease id, or when it calls `leaseEnding(ref)` (max TTL reached, renewal refused; see
 *   sources/source.ts);
 * - anything else (no version, or a source without `versions()`) is fetched again and the
 *   content compare decides.
 *
 * The result of one fetch is still all or nothing: reused entries are only combined with a
 * fetch that fully succeeded.
 */
import { onLeaseEnding, type FetchedSecret, type Reference, type SecretSource, type SourceContext } from "../sources/source.ts";

interface Entry {
  secret: FetchedSecret;
  at: number;
  /** The source said its lease ends (leaseEnding): read it again. */
  ended?: boolean;
}

const caches = new Set<Map<string, Entry>>();

function leaseEnd(e: Entry): number | undefined {
  const l = e.secret.lease;
  if (!l || l.renewable || l.durationSec <= 0) return undefined;
  return e.at + l.durationSec * 1000;
}

function leaseEnding(e: Entry, now: number): boolean {
  if (e.ended) return true;
  const end = leaseEnd(e);
  return end !== undefined && now >= e.at + ((end - e.at) * 2) / 3;
}

/** The earliest end of a non-renewable lease held now (ms since epoch), for rotation's timer. */
export function nextLeaseEnd(): number | undefined {
  let min: number | undefined;
  for (const c of caches) {
    for (const e of c.values()) {
      const end = leaseEnd(e);
      if (end !== undefined && (min === undefined || end < min)) min = end;
    }
  }
  return min;
}

/**
 * The lease id of a leased secret held for `raw`: its "version" for polling (a source's
 * `versions()` answers the lease id while the lease is healthy).
 */
export function cachedLeaseId(raw: string): string | undefined {
  for (const c of caches) {
    const id = c.get(raw)?.secret.lease?.id;
    if (id !== undefined) return id;
  }
  return undefined;
}

export function cachingSource(src: SecretSource, now: () => number = Date.now): SecretSource {
  const cache = new Map<string, Entry>();
  caches.add(cache);
  const unsubscribe = onLeaseEnding((raw) => {
    const e = cache.get(raw);
    if (e?.secret.lease) e.ended = true;
  });
  const wrapped: SecretSource = {
    scheme: src.scheme,
    async fetch(refs: readonly Reference[], ctx: SourceContext): Promise<FetchedSecret[]> {
      const t = now();
      const known = refs.map((r) => cache.get(r.raw));
      let current: (string | undefined)[] | null = null;
      // Leased entries are asked too: by contract a source answers the lease id while the
      // lease is healthy, anything else once it must be read again.
      const ask = refs.filter((_, i) => known[i]?.secret.version !== undefined || known[i]?.secret.lease !== undefined);
      if (src.versions && ask.length > 0) {
        const got = await src.versions(ask, ctx);
        const byRaw = new Map(ask.map((r, i) => [r.raw, got[i]]));
        current = refs.map((r) => byRaw.get(r.raw));
      }
      const reuse = refs.map((_, i) => {
        const e = known[i];
        if (!e) return false;
        const v = current?.[i];
        if (e.secret.lease) return !leaseEnding(e, t) && (v === undefined || v === e.secret.lease.id);
        return v !== undefined && v === e.secret.version;
      });
      const toFetch = refs.filter((_, i) => !reuse[i]);
      const fresh = toFetch.length > 0 ? await src.fetch(toFetch, ctx) : [];
      const freshByRef = new Map<Reference, FetchedSecret>();
      fresh.forEach((f, i) => freshByRef.set(toFetch.includes(f.ref) ? f.ref : toFetch[i]!, f));
      const out = refs.map((r, i): FetchedSecret => {
        if (reuse[i]) return { ...known[i]!.secret, ref: r };
        const f = freshByRef.get(r);
        if (!f) throw new Error(`${src.scheme}:// source returned no value for ${r.raw}`);
        return f;
      });
      for (let i = 0; i < refs.length; i++) if (!reuse[i]) cache.set(refs[i]!.raw, { secret: out[i]!, at: t });
      return out;
    },
    ...(src.versions ? { versions: (refs: readonly Reference[], ctx: SourceContext) => src.versions!(refs, ctx) } : {}),
    async close(): Promise<void> {
      cache.clear();
      caches.delete(cache);
      unsubscribe();
      await src.close?.();
    },
  };
  return wrapped;
}
