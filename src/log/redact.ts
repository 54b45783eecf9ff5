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
  #pattern: RegExp | null = null;

  add(value: string): void {
    for (const form of variants(value)) {
      if (form.length >= MIN_LENGTH && !this.#values.has(form)) {
        this.#values.add(form);
        this.#pattern = null;
      }
    }
  }

  get size(): number {
    return this.#values.size;
  }

  redact(text: string): string {
    if (this.#values.size === 0) return text;
    this.#pattern ??= compile(this.#values);
    return text.replace(this.#pattern, MASK);
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

function compile(values: Set<string>): RegExp {
  // Longest first so that a value containing another is masked whole.
  const sorted = [...values].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join("|"), "g");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The process-wide redactor: sources register values, the logger and error printer use it. */
export const redactor = new Redactor();
