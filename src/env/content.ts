/**
 * Content rules for every secret, whatever its source: size limit, trailing-newline trim,
 * NUL bytes (an env value cannot hold one: execve would cut it short silently), UTF-8
 * validity, base64 for declared-binary secrets, and JSON/dotenv fan-out.
 * Errors name the secret (file path, variable, reference), never its content.
 */
import { dotenv } from "../platform/lazy.ts";
import { parseAmount, type AmountSyntax } from "../config/amount.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";

export type TrimMode = "newline" | "space" | "none";
export const TRIM_MODES: readonly TrimMode[] = ["newline", "space", "none"];
export type ExpandFormat = "json" | "dotenv";
export const EXPAND_FORMATS: readonly ExpandFormat[] = ["json", "dotenv"];

export interface ContentRules {
  maxSize: number;
  trim: TrimMode;
  base64: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function dataError(message: string): LatchkeyError {
  return new LatchkeyError("data", ExitCode.DATA, message);
}

/** Bytes → env value. `what` names the secret in errors, e.g. `secret file /run/secrets/x`. */
export function decodeSecret(bytes: Buffer, rules: ContentRules, what: string): string {
  return decodeSecretText(bytes, rules, what).text;
}

/** The env value and the decoded text before trimming (base64: both the encoding). */
export function decodeSecretText(bytes: Buffer, rules: ContentRules, what: string): { text: string; untrimmed: string } {
  if (bytes.length > rules.maxSize) {
    throw dataError(`${what} is too large: ${bytes.length} bytes, limit ${rules.maxSize} (--max-size)`);
  }
  if (rules.base64) {
    const b64 = bytes.toString("base64");
    return { text: b64, untrimmed: b64 };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw dataError(`${what} contains a NUL byte at offset ${nul}; environment values cannot hold one` +
      ` (declare it binary with --base64 to pass it base64-encoded)`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw dataError(`${what} is not valid UTF-8 (declare it binary with --base64 to pass it base64-encoded)`);
  }
  return { text: trim(text, rules.trim), untrimmed: text };
}

export function trim(text: string, mode: TrimMode): string {
  if (mode === "none") return text;
  if (mode === "space") return text.replace(/\s+$/u, "");
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}

const SIZE: AmountSyntax = {
  units: { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 * 1024, mb: 1024 * 1024, mib: 1024 * 1024 },
  bare: "b", fraction: false, ignoreCase: true,
};

/** `64KiB`, `1MiB`, `65536`, `64k` → bytes; null when unreadable. */
export function parseSize(raw: string): number | null {
  const n = parseAmount(raw, SIZE);
  return n !== null && Number.isSafeInteger(n) && n > 0 ? n : null;
}

export interface ExpandRule {
  format: ExpandFormat;
  /** Prepended to each mapped key; default: the secret's own variable name + `_`. */
  prefix?: string;
  /** Only these keys (each must exist). */
  keys?: string[];
}

/**
 * Key → string value pairs of a JSON object or dotenv secret. `asker` names what wanted JSON,
 * for the message (--expand json, or a reference's `#key`).
 */
export function expandPairs(text: string, rule: ExpandRule, what: string, asker = "--expand json"): Array<[string, string]> {
  let obj: Record<string, string>;
  if (rule.format === "json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      // JSON.parse messages quote the input around the error position: keep only the position.
      const pos = /position (\d+)/.exec((e as Error).message);
      throw dataError(`${what} is not valid JSON${pos ? ` (error at position ${pos[1]})` : ""} but ${asker} needs a JSON object`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw dataError(`${what}: ${asker} needs a JSON object, got ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : `a ${typeof parsed}`}`);
    }
    obj = {};
    for (const [k, v] of Object.entries(parsed)) obj[k] = jsonToEnv(v);
  } else {
    obj = dotenv().parse(text);
  }
  const keys = rule.keys ?? Object.keys(obj);
  const out: Array<[string, string]> = [];
  for (const k of keys) {
    if (!Object.hasOwn(obj, k)) {
      throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `${what}: selected key '${k}' is not in the ${rule.format} secret (keys: ${Object.keys(obj).join(", ") || "none"})`);
    }
    out.push([k, obj[k]!]);
  }
  return out;
}

/** `#key` selection in a reference: one key of a JSON object secret. */
export function selectKey(text: string, key: string, what: string): string {
  const [[, v]] = expandPairs(text, { format: "json", keys: [key] }, what, `'#${key}'`) as [[string, string]];
  return v;
}

function jsonToEnv(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
