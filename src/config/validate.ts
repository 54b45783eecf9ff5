/**
 * Small checkers for config-file values. Every failure names the file, the field path, the
 * bad value and what is allowed, e.g.
 *   latchkey.yaml: secrets.files.db.json.expand: invalid value "xml": expected one of: json, dotenv
 * Values quoted back here come from the config file, which holds settings and references,
 * never secret values (those live in files and managers) — and the logger redacts anyway.
 */
import { configError } from "../errors.ts";
import type { LatchkeyError } from "../errors.ts";

export class FieldPath {
  readonly file: string;
  readonly path: string;
  constructor(file: string, path: string) {
    this.file = file;
    this.path = path;
  }
  child(key: string | number): FieldPath {
    const seg = typeof key === "number" ? `[${key}]` : this.path === "" ? key : `.${key}`;
    return new FieldPath(this.file, this.path + seg);
  }
  fail(value: unknown, expected: string): LatchkeyError {
    return configError(`${this.file}: ${this.path || "(top level)"}: invalid value ${show(value)}: ${expected}`);
  }
  toString(): string {
    return `${this.file}: ${this.path}`;
  }
}

export function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function expectObject(v: unknown, at: FieldPath): Record<string, unknown> {
  if (!isPlainObject(v)) throw at.fail(v, "expected a mapping (key: value)");
  return v;
}

export function expectString(v: unknown, at: FieldPath): string {
  if (typeof v === "string") return v;
  // YAML turns `grace: 5` into a number; a number is a fine spelling of a string setting.
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw at.fail(v, "expected a string");
}

export function expectBoolean(v: unknown, at: FieldPath): boolean {
  if (typeof v === "boolean") return v;
  throw at.fail(v, "expected true or false");
}

export function expectInt(v: unknown, at: FieldPath, min = 0): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= min) return v;
  throw at.fail(v, `expected a whole number >= ${min}`);
}

export function expectStringList(v: unknown, at: FieldPath): string[] {
  if (typeof v === "string") return [v];
  if (!Array.isArray(v)) throw at.fail(v, "expected a list of strings");
  return v.map((x, i) => expectString(x, at.child(i)));
}

export function expectOneOf<T extends string>(v: unknown, allowed: readonly T[], at: FieldPath): T {
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  throw at.fail(v, `expected one of: ${allowed.join(", ")}`);
}

/** Unknown keys are errors (a typo must not be silently ignored); suggest the closest one. */
export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], at: FieldPath): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const near = closest(k, allowed);
    const where = at.child(k);
    throw configError(
      `${where.file}: ${where.path}: unknown key${near ? ` (did you mean '${near}'?)` : ""}; allowed: ${allowed.join(", ")}`,
    );
  }
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
