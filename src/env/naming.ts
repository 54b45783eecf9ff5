/**
 * From secret file names (and JSON/dotenv keys) to environment variable names.
 * `db-password` → `DB_PASSWORD`: upper-case, `-` and `.` become `_`. A result that is not a
 * POSIX name (letters, digits, `_`, not starting with a digit) is an error naming the file:
 * silently mangling it would hand the app a variable nobody asked for.
 */
import { configError, type LatchkeyError } from "../errors.ts";

export interface NamingOptions {
  prefix: string;
  keepCase: boolean;
  /** Explicit file name → variable name (exact; no prefix, no case change). */
  map: ReadonlyMap<string, string>;
}

export const DEFAULT_NAMING: NamingOptions = { prefix: "", keepCase: false, map: new Map() };

/**
 * A POSIX variable name: [A-Za-z_][A-Za-z0-9_]*. Tested character by character: every start
 * tests the *_FILE variables, and a regex costs V8 two compilations (to bytecode, then to
 * machine code on its second use), ~0.08 ms of a start (measured here).
 */
export function isVarName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false; // digits, but not first
  }
  return true;
}

/** The variable for `name`, or a LatchkeyError explaining why there is none. */
export function mapName(name: string, opts: NamingOptions = DEFAULT_NAMING): string | LatchkeyError {
  const explicit = opts.map.get(name);
  if (explicit !== undefined) return explicit;
  const base = name.replace(/[-.]/g, "_");
  const v = opts.prefix + (opts.keepCase ? base : base.toUpperCase());
  if (isVarName(v)) return v;
  return configError(`'${printable(name)}' maps to '${printable(v)}', which is not a valid variable name` +
    ` (letters, digits and _, not starting with a digit)`);
}

/** Names quoted in errors may come from a directory listing: keep control characters out of logs. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** `FILE=VAR` pairs from --map, checked. */
export function parseMap(pairs: readonly string[], where: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of pairs) {
    const eq = p.lastIndexOf("=");
    const file = eq === -1 ? "" : p.slice(0, eq).trim();
    const v = eq === -1 ? "" : p.slice(eq + 1).trim();
    if (file === "" || v === "") throw configError(`${where}: invalid value '${p}': expected FILE=VAR`);
    if (!isVarName(v)) throw configError(`${where}: invalid value '${p}': '${v}' is not a valid variable name`);
    if (m.has(file) && m.get(file) !== v) throw configError(`${where}: '${file}' is mapped twice (to ${m.get(file)} and ${v})`);
    m.set(file, v);
  }
  return m;
}
