/**
 * Change detection by content, never by events: a file watcher or a provider version only
 * says "look again"; a change counts when the resolved value of a variable differs. Values are
 * reduced to SHA-256 fingerprints at once, so that what the watcher keeps and logs can never
 * leak a secret (a fingerprint of a low-entropy secret can still be brute-forced, so logs show
 * names only and a short prefix of the hash at debug level).
 */
import { crypto } from "../platform/lazy.ts";

export type Fingerprints = ReadonlyMap<string, string>;

export function fingerprint(value: string | Buffer): string {
  return crypto().createHash("sha256").update(value).digest("hex");
}

/** One fingerprint per variable name. */
export function fingerprintAll(values: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(values)) out.set(k, fingerprint(v));
  return out;
}

export interface FingerprintDiff {
  changed: string[];
  added: string[];
  removed: string[];
}

export function diffFingerprints(before: Fingerprints, after: Fingerprints): FingerprintDiff {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [k, fp] of after) {
    const old = before.get(k);
    if (old === undefined) added.push(k);
    else if (old !== fp) changed.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) removed.push(k);
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

export function isEmptyDiff(d: FingerprintDiff): boolean {
  return d.changed.length === 0 && d.added.length === 0 && d.removed.length === 0;
}

/** Every name the diff touches, for choosing an action and for logs (names only). */
export function touched(d: FingerprintDiff): string[] {
  return [...d.changed, ...d.added, ...d.removed].sort();
}

/** A short, log-safe tag of a fingerprint (12 hex digits; debug logs only). */
export function shortTag(fp: string): string {
  return fp.slice(0, 12);
}
