/**
 * Layered settings: defaults ← config file ← LATCHKEY_* env ← flags. Each value remembers
 * where it came from, so that a bad value is reported as `--grace`, `LATCHKEY_GRACE` or
 * `config.yaml: grace` — whichever the user actually wrote.
 */
import { ExitCode, LatchkeyError } from "../errors.ts";
import { parseAmount, type AmountSyntax } from "./amount.ts";
import { allFlags, configKey, flagEnvNames, type FlagDef } from "../cli/flags.ts";
import { closest } from "./validate.ts";

export type OriginKind = "default" | "file" | "env" | "flag";
export interface Origin {
  kind: OriginKind;
  /** `--grace`, `LATCHKEY_GRACE`, `/etc/latchkey.yaml: grace`, `default`. */
  label: string;
}
export type RawValue = string | boolean | string[];
export interface Setting {
  value: RawValue;
  origin: Origin;
}

export interface SettingsInput {
  flags: Record<string, RawValue>;
  env: NodeJS.ProcessEnv;
  /** Flat map from config-file keys (camelCase) to values, already schema-checked. */
  file?: { path: string; values: Record<string, RawValue> };
}

export class Settings {
  readonly #map = new Map<string, Setting>();

  constructor(input: SettingsInput) {
    for (const f of allFlags()) {
      if (f.default !== undefined) this.#map.set(f.name, { value: f.default, origin: { kind: "default", label: "default" } });
      const key = input.file ? configKey(f.name) : ""; // only a config file needs it (a regex per flag)
      if (input.file && key in input.file.values) {
        this.#map.set(f.name, { value: input.file.values[key]!, origin: { kind: "file", label: `${input.file.path}: ${key}` } });
      }
      if (f.env && input.env[f.env] !== undefined && input.env[f.env] !== "") {
        this.#map.set(f.name, { value: fromEnv(f, input.env[f.env]!), origin: { kind: "env", label: f.env } });
      }
      if (f.name in input.flags) {
        this.#map.set(f.name, { value: input.flags[f.name]!, origin: { kind: "flag", label: `--${f.name}` } });
      }
    }
  }

  get(name: string): Setting | undefined {
    return this.#map.get(name);
  }

  string(name: string): string | undefined {
    const s = this.#map.get(name);
    if (!s) return undefined;
    if (Array.isArray(s.value)) return s.value[s.value.length - 1];
    if (typeof s.value === "boolean") throw invalid(s.origin, String(s.value), "expected a value");
    return s.value;
  }

  list(name: string): string[] {
    const s = this.#map.get(name);
    if (!s) return [];
    const v = s.value;
    if (Array.isArray(v)) return v;
    if (typeof v === "boolean") throw invalid(s.origin, String(v), "expected a list");
    return splitList(v);
  }

  boolean(name: string): boolean {
    const s = this.#map.get(name);
    if (!s) return false;
    if (typeof s.value === "boolean") return s.value;
    const v = String(s.value).trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
    throw invalid(s.origin, String(s.value), "expected one of: true, false, 1, 0, yes, no, on, off");
  }

  /** Duration in milliseconds. Accepts `500ms`, `5s`, `2m`, `1h`, or a plain number of seconds. */
  duration(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === null) {
      const negative = raw.trim().startsWith("-");
      throw invalid(this.#map.get(name)!.origin, raw, negative ? "a duration cannot be negative (0 or more, such as 500ms, 5s, 2m or 1h)" : "expected a duration such as 500ms, 5s, 2m or 1h");
    }
    return ms;
  }

  /** A whole number in [min, max] (decimal digits only: `1e3`, `0x10` and `8.0` are not counts). */
  integer(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const t = raw.trim();
    const n = /^\d{1,9}$/.test(t) ? Number(t) : NaN;
    if (!(n >= min && n <= max)) throw invalid(this.#map.get(name)!.origin, raw, `expected a whole number from ${min} to ${max}`);
    return n;
  }

  /** Check every setting whose flag declares a range (FlagDef.range), used or not. */
  checkRanges(): void {
    for (const f of allFlags()) if (f.range && this.#map.get(f.name)?.origin.kind !== "default") this.integer(f.name, f.range.min, f.range.max);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw invalid(this.#map.get(name)!.origin, raw, `expected one of: ${allowed.join(", ")}`);
    }
    return raw as T;
  }

  origin(name: string): Origin | undefined {
    return this.#map.get(name)?.origin;
  }

  /** Names of the env vars latchkey read its own settings from (scrubbed from the app's env). */
  static envNames(): readonly string[] {
    return flagEnvNames();
  }
}

/**
 * `LATCHKEY_USR=app` is silently ignored, while a config file's unknown key is an error: warn
 * about a LATCHKEY_* variable that is one or two letters away from a real one. Names far from
 * every setting are left alone (wrappers and test harnesses use the prefix too).
 */
export function misspeltEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const prefixed = Object.keys(env).filter((name) => name.startsWith(PREFIX));
  // Most environments have none: then the tables of known names are not built at all.
  if (prefixed.length === 0) return [];
  const known = new Set<string>([...flagEnvNames(), ...INTERNAL_ENV]);
  const suffixes = [...known].map((n) => n.slice(PREFIX.length));
  const out: string[] = [];
  for (const name of prefixed.sort()) {
    if (known.has(name)) continue;
    const near = closest(name.slice(PREFIX.length), suffixes);
    if (near !== undefined) out.push(`${name} is not a latchkey setting and is ignored; did you mean ${PREFIX}${near}?`);
  }
  return out;
}
const PREFIX = "LATCHKEY_";
/** Read by latchkey outside the flag table (build and code-cache switches). */
const INTERNAL_ENV = ["LATCHKEY_CODE_CACHE_CHECK", "LATCHKEY_CODE_CACHE_TRAIN", "LATCHKEY_BUILD_VERSION_PLACEHOLDER"];

function fromEnv(f: FlagDef, raw: string): RawValue {
  if (!f.multiple) return raw;
  if (f.envSeparator === "newline") return raw.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return splitList(raw);
}

function splitList(v: string): string[] {
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

const DURATION: AmountSyntax = { units: { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }, bare: "s", fraction: true, ignoreCase: false };

export function parseDuration(raw: string): number | null {
  const ms = parseAmount(raw, DURATION);
  return ms !== null && Number.isFinite(ms) && ms <= 2 ** 31 - 1 ? Math.round(ms) : null;
}

/** A bad value: usage error when it came from a flag, config error otherwise. */
export function invalid(origin: Origin, value: string, expected: string): LatchkeyError {
  const exit = origin.kind === "flag" ? ExitCode.USAGE : ExitCode.CONFIG;
  return new LatchkeyError(origin.kind === "flag" ? "usage" : "config", exit, `${origin.label}: invalid value '${value}': ${expected}`);
}
