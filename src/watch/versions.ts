/**
 * The cheap remote check behind `--poll-interval`: ask each source for the current version
 * of the refs a set was built from (SecretSource.versions), and report "changed" when any
 * differs — only then does rotation pay for a full load of values. A source without
 * `versions`, or a ref whose version it cannot tell, counts as "maybe changed": the full
 * load runs and the content compare decides, so correctness never depends on versions.
 */
import type { FetchedSecret, Reference, SecretSource, SourceContext } from "../sources/source.ts";
import type { Logger } from "../log/logger.ts";

/** Schemes whose changes file watching already sees. */
const LOCAL_SCHEMES = new Set(["file"]);
const CHECK_TIMEOUT_MS = 30_000;

export type SourceLookup = (scheme: string) => Promise<SecretSource>;

export interface VersionCheck {
  (signal: AbortSignal): Promise<boolean>;
  /** How many refs are polled (for logs and status). */
  readonly refs: number;
}

/** One check per remote scheme in `fetched` (empty when nothing is remote). */
export function remoteVersionChecks(fetched: readonly FetchedSecret[], lookup: SourceLookup, log: Logger): Map<string, VersionCheck> {
  const schemes = new Set(fetched.map((f) => f.ref.scheme).filter((s) => !LOCAL_SCHEMES.has(s)));
  const out = new Map<string, VersionCheck>();
  for (const scheme of schemes) out.set(scheme, remoteVersionCheck(fetched.filter((f) => f.ref.scheme === scheme), lookup, log)!);
  return out;
}

/** null when nothing in `fetched` is remote (nothing to poll). */
export function remoteVersionCheck(fetched: readonly FetchedSecret[], lookup: SourceLookup, log: Logger): VersionCheck | null {
  const byScheme = new Map<string, { ref: Reference; version: string | undefined }[]>();
  for (const f of fetched) {
    if (LOCAL_SCHEMES.has(f.ref.scheme)) continue;
    const list = byScheme.get(f.ref.scheme) ?? [];
    // The same secret may be referenced twice (#user, #password): one entry per distinct ref.
    if (!list.some((e) => e.ref.raw === f.ref.raw)) list.push({ ref: f.ref, version: f.version });
    byScheme.set(f.ref.scheme, list);
  }
  if (byScheme.size === 0) return null;
  const total = [...byScheme.values()].reduce((n, l) => n + l.length, 0);
  const check = async (signal: AbortSignal): Promise<boolean> => {
    for (const [scheme, entries] of byScheme) {
      const src = await lookup(scheme);
      if (!src.versions) return true;
      const ctx: SourceContext = { log, deadline: Date.now() + CHECK_TIMEOUT_MS, signal };
      const now = await src.versions(entries.map((e) => e.ref), ctx);
      for (let i = 0; i < entries.length; i++) {
        const was = entries[i]!.version;
        const is = now[i];
        if (was === undefined || is === undefined) {
          log.debug("provider cannot tell a version; reloading to compare", { ref: entries[i]!.ref.raw });
          return true;
        }
        if (was !== is) {
          log.debug("provider reports a new version", { ref: entries[i]!.ref.raw });
          return true;
        }
      }
    }
    return false;
  };
  return Object.assign(check, { refs: total });
}
