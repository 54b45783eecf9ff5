/**
 * Secret freshness per source for the status endpoint: when each source last loaded or
 * refreshed successfully and its last error. Never values — only source names, times and
 * error messages (which by contract name references, not contents, and are redacted again
 * when served).
 *
 * Secret loading and the watcher call `recordSecretLoad` after each load or refresh of a
 * source (e.g. recordSecretLoad("file", true), recordSecretLoad("vault", false, err.message)).
 */
export interface SourceFreshness {
  source: string;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
  loads: number;
  errors: number;
}

const sources = new Map<string, SourceFreshness>();

export function recordSecretLoad(source: string, ok: boolean, error?: string): void {
  const f = sources.get(source) ?? { source, lastSuccessAt: null, lastErrorAt: null, lastError: null, loads: 0, errors: 0 };
  const now = new Date().toISOString();
  if (ok) {
    f.lastSuccessAt = now;
    f.loads++;
  } else {
    f.lastErrorAt = now;
    f.lastError = (error ?? "error").split("\n")[0]!.slice(0, 300);
    f.errors++;
  }
  sources.set(source, f);
}

export function freshnessSnapshot(): SourceFreshness[] {
  return [...sources.values()].map((f) => ({ ...f }));
}
