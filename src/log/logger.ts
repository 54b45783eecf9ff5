import { writeSync } from "node:fs";
import { redactor, type Redactor } from "./redact.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Fields = Record<string, string | number | boolean | null | undefined>;

/**
 * One logger to stderr. Lines are prefixed `latchkey:` (text) or carry `"src":"latchkey"`
 * (json) so they can be told apart from the app's own output on the same stream. Writes
 * are synchronous: latchkey often exits right after logging, and a lost last line is the
 * one that explains the exit.
 */
export class Logger {
  level: LogLevel = "warn";
  format: LogFormat = "text";
  #fd: number;
  #redactor: Redactor;

  constructor(fd = 2, r: Redactor = redactor) {
    this.#fd = fd;
    this.#redactor = r;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string, fields?: Fields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.log("error", msg, fields);
  }

  /**
   * Redaction comes before escaping: the redactor knows a secret by its raw bytes (and its
   * JSON-escaped form), not by this file's escapes, so a secret holding an ESC or a DEL would
   * slip past a redactor that only saw the escaped line. So the message, each key and each
   * string value are redacted on their own, raw. Numbers and booleans (pids, exit codes, ms)
   * and the JSON time are latchkey's own and never redacted: a secret `4242` turned
   * `"pid":4242` into `"pid":[redacted]`, which is not JSON, and a secret `2026` masked the
   * year of every timestamp.
   */
  log(level: Exclude<LogLevel, "silent">, msg: string, fields?: Fields): void {
    if (!this.enabled(level)) return;
    const r = this.#redactor;
    const line = this.format === "json" ? jsonLine(level, msg, fields, r) : textLine(level, msg, fields, r);
    this.write(line + "\n");
  }

  write(text: string): void {
    try {
      writeSync(this.#fd, text);
    } catch {
      // stderr closed or EAGAIN on a non-blocking pipe: nothing better to do than drop the line.
    }
  }
}

/**
 * Text lines hold text from the environment (paths, commands, error messages quoting them): a
 * raw ESC would drive the operator's terminal (ESC[2J clears it) and a raw newline would start
 * a forged `latchkey:` line. So every line is one physical line of printable text: control
 * characters (C0, DEL, C1) and the Unicode line and paragraph separators are escaped in the
 * message, the keys and the values. A value that needs escaping, quoting (space, `"`, `=`) or
 * is empty is written as a JSON string, so a reader gets the exact value back with JSON.parse.
 */
function textLine(level: string, msg: string, fields: Fields | undefined, r: Redactor): string {
  let out = `latchkey: ${level}: ${escapeText(r.redact(msg))}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const s = typeof v === "string" ? r.redact(v) : String(v);
      out += ` ${escapeText(r.redact(k))}=${/[\s"=]/.test(s) || UNSAFE.test(s) || s === "" ? escapeJson(JSON.stringify(s)) : s}`;
    }
  }
  return out;
}

/** One JSON object; what JSON.stringify leaves raw (DEL, C1, U+2028/9) is escaped after it. */
function jsonLine(level: string, msg: string, fields: Fields | undefined, r: Redactor): string {
  const rec: Record<string, unknown> = { time: new Date().toISOString(), level, src: "latchkey", msg: r.redact(msg) };
  if (fields) {
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) rec[r.redact(k)] = typeof v === "string" ? r.redact(v) : v;
  }
  return escapeJson(JSON.stringify(rec));
}

/** C0 controls, DEL, C1 controls, LINE SEPARATOR, PARAGRAPH SEPARATOR. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** What JSON.stringify leaves raw: DEL, C1 and the separators (C0 it escapes already). */
const JSON_LEFT_RAW = /[\u007f-\u009f\u2028\u2029]/g;
const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const u = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Message and key text: the escapes a JSON string would use, without quotes around it. */
export function escapeText(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, (c) => SHORT[c] ?? u(c)) : s;
}

/** JSON text (a whole record or one string) with the characters JSON.stringify leaves raw escaped; still valid JSON. */
export function escapeJson(s: string): string {
  return s.replace(JSON_LEFT_RAW, u);
}

export const log = new Logger();
