/**
 * Change detection by content, never by events: a file watcher or a provider version only
 * says "look again"; a change counts when the resolved value of a variable differs.
 *
 * Values are compared as they are, not as SHA-256 fingerprints: the controller keeps the last
 * good set (values included) to restart the app with, so a hash kept beside it hid nothing,
 * and hashing loaded node:crypto into every supervisor at its first look (+~1.3 MB of
 * anonymous memory, measured here). Nothing here is ever logged but variable names.
 */

/** What is compared: one resolved value per variable name. */
export type Content = ReadonlyMap<string, string>;

export function contentOf(values: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(values));
}

export interface ContentDiff {
  changed: string[];
  added: string[];
  removed: string[];
}

export function diffContent(before: Content, after: Content): ContentDiff {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) added.push(k);
    else if (old !== v) changed.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) removed.push(k);
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

export function isEmptyDiff(d: ContentDiff): boolean {
  return d.changed.length === 0 && d.added.length === 0 && d.removed.length === 0;
}

/** Every name the diff touches, for choosing an action and for logs (names only). */
export function touched(d: ContentDiff): string[] {
  return [...d.changed, ...d.added, ...d.removed].sort();
}
