/**
 * Redaction by value: every secret latchkey loads is registered here, and every line it
 * writes passes through `redact`. Masking by value (not by variable name) also covers
 * library error messages and stack traces that quote a value back to us.
 */
const MASK = "[redacted]";
/** Values this short would mask ordinary words ("1", "on"); they are still never logged on purpose. */
const MIN_LENGTH = 4;

export class Redactor {
  #values = new Set<string>();
  /**
   * Values by their first MIN_LENGTH characters, longest first. One alternation regex of every
   * form took ~370 ms to compile with 1,000 secrets (5,000 forms) on the first logged line;
   * this index costs one map lookup per character of the text instead.
   */
  #index = new Map<string, string[]>();
  /**
   * Lists that had a value added since they were last sorted. Sorted when next used, not at
   * every add: secrets sharing their first characters (`db-...`, a common prefix) made
   * loading a thousand of them quadratic (~20 ms, measured here).
   */
  #unsorted = new Set<string[]>();

  /** Values given to add(), whose variants are all in: adding one again is a no-op. */
  #added = new Set<string>();

  add(value: string): void {
    if (this.#added.has(value)) return;
    this.#added.add(value);
    for (const form of variants(value)) {
      if (form.length < MIN_LENGTH || this.#values.has(form)) continue;
      this.#values.add(form);
      const key = form.slice(0, MIN_LENGTH);
      const list = this.#index.get(key);
      if (!list) this.#index.set(key, [form]);
      else {
        list.push(form);
        this.#unsorted.add(list);
      }
    }
  }

  get size(): number {
    return this.#values.size;
  }

  redact(text: string): string {
    if (this.#values.size === 0 || text.length < MIN_LENGTH) return text;
    if (this.#unsorted.size > 0) {
      for (const list of this.#unsorted) list.sort((a, b) => b.length - a.length); // a value containing another is masked whole
      this.#unsorted.clear();
    }
    let out = "";
    let copied = 0;
    const last = text.length - MIN_LENGTH;
    for (let i = 0; i <= last; ) {
      const candidates = this.#index.get(text.slice(i, i + MIN_LENGTH));
      const hit = candidates?.find((c) => text.startsWith(c, i));
      if (hit) {
        out += text.slice(copied, i) + MASK;
        i += hit.length;
        copied = i;
      } else i++;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }
}

function variants(value: string): string[] {
  const out = [value];
  const trimmed = value.trim();
  if (trimmed !== value) out.push(trimmed);
  out.push(Buffer.from(value, "utf8").toString("base64"));
  // Multi-line secrets (keys, certificates) are often quoted one line at a time.
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) out.push(line.trim());
  // JSON-escaped form, as it appears inside a serialized object.
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) out.push(json);
  return out;
}

/** The process-wide redactor: sources register values, the logger and error printer use it. */
export const redactor = new Redactor();
