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

  log(level: Exclude<LogLevel, "silent">, msg: string, fields?: Fields): void {
    if (!this.enabled(level)) return;
    const line = this.format === "json" ? jsonLine(level, msg, fields) : textLine(level, msg, fields);
    this.write(this.#redactor.redact(line) + "\n");
  }

  write(text: string): void {
    try {
      writeSync(this.#fd, text);
    } catch {
      // stderr closed or EAGAIN on a non-blocking pipe: nothing better to do than drop the line.
    }
  }
}

function textLine(level: string, msg: string, fields?: Fields): string {
  let out = `latchkey: ${level}: ${msg}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const s = String(v);
      out += ` ${k}=${/[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s}`;
    }
  }
  return out;
}

function jsonLine(level: string, msg: string, fields?: Fields): string {
  const rec: Record<string, unknown> = { time: new Date().toISOString(), level, src: "latchkey", msg };
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) rec[k] = v;
  return JSON.stringify(rec);
}

export const log = new Logger();
