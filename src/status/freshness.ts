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

/**
 * The first load, before the app starts (reloads are recorded by the rotation pipeline):
 * one entry per scheme the app's secrets came from, `file` for files and VAR_FILE.
 */
export function recordInitialLoad(secrets: ReadonlyArray<{ kind: string; source: string }>): void {
  const schemes = new Set<string>();
  for (const v of secrets) {
    schemes.add(v.kind === "reference" ? (/=([a-z][a-z0-9+.-]*):\/\//.exec(v.source)?.[1] ?? "file") : "file");
  }
  for (const s of schemes) recordSecretLoad(s, true);
}
