import fc from "fast-check";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Logger, type Fields, type LogFormat } from "../../../src/log/logger.ts";
import { Redactor } from "../../../src/log/redact.ts";

const dir = mkdtempSync(join(tmpdir(), "latchkey-logger-"));
const file = join(dir, "log");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What one call to the logger writes. */
function logged(format: LogFormat, r: Redactor, msg: string, fields?: Fields): string {
  const fd = openSync(file, "w");
  try {
    const l = new Logger(fd, r);
    l.level = "debug";
    l.format = format;
    l.info(msg, fields);
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, "utf8");
}

/** Every character a log line must not carry raw: C0 (the final newline aside), DEL, C1, U+2028/9. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe("Logger: control characters", () => {
  it("text: ESC and a newline in the message, a key and a value are escaped; one physical line", () => {
    const out = logged("text", new Redactor(), "read /x\u001b[2J\nlatchkey: error: forged", { "k\u001bey": "v\u001b[2Jal", path: "a\nb" });
    expect(out.endsWith("\n")).toBe(true);
    expect(RAW.test(out.slice(0, -1))).toBe(false);
    expect(out).toBe('latchkey: info: read /x\\u001b[2J\\nlatchkey: error: forged k\\u001bey="v\\u001b[2Jal" path="a\\nb"\n');
  });

  it("text: DEL, C1 (CSI, NEL) and the line/paragraph separators are escaped too", () => {
    const out = logged("text", new Redactor(), "m\u007f\u009b\u0085\u2028\u2029", { v: "x\u007fy\u009bz\u2028" });
    expect(RAW.test(out.slice(0, -1))).toBe(false);
    expect(out).toBe('latchkey: info: m\\u007f\\u009b\\u0085\\u2028\\u2029 v="x\\u007fy\\u009bz\\u2028"\n');
  });

  it("text: plain values stay unquoted, as before", () => {
    expect(logged("text", new Redactor(), "app started", { pid: "7", command: "/usr/bin/app" })).toBe("latchkey: info: app started pid=7 command=/usr/bin/app\n");
  });

  it("json: valid JSON, nothing raw, every field reads back exactly", () => {
    const fields = { command: "a\u001b[2J\nb\u007f\u0085\u2028c", "k\u001b": "v" };
    const out = logged("json", new Redactor(), "m\u2029", fields);
    expect(out.split("\n")).toHaveLength(2);
    expect(RAW.test(out.slice(0, -1))).toBe(false);
    const rec = JSON.parse(out) as Record<string, unknown>;
    expect(rec).toMatchObject({ msg: "m\u2029", command: fields.command, "k\u001b": "v" });
  });

  it("a secret holding control characters is redacted in the message, a value and a key, both formats", () => {
    const secret = "pw\u001b[2J\u007fse\ncret\u0085\u2028x";
    const r = new Redactor();
    r.add(secret);
    for (const format of ["text", "json"] as const) {
      const out = logged(format, r, `cannot read /run/${secret}/x`, { path: `/p/${secret}`, [secret]: "1" });
      expect(out.match(/\[redacted\]/g)?.length, format).toBe(3);
      expect(out.includes("cret"), `${format}: a piece of the secret got through`).toBe(false);
      expect(RAW.test(out.slice(0, -1))).toBe(false);
    }
  });

  it("property: any message and value give one line with nothing raw; the value reads back exactly", () => {
    // Control characters, ASCII, Latin-1, the separators and an astral character, mixed.
    const unit = fc.oneof(fc.integer({ min: 0, max: 0xa0 }), fc.constantFrom(0x2028, 0x2029, 0xe9, 0x1f600)).map((c) => String.fromCodePoint(c));
    const str = fc.string({ unit, maxLength: 40 });
    fc.assert(fc.property(str, str, (msg, v) => {
      const m = logged("text", new Redactor(), msg);
      expect(m.indexOf("\n")).toBe(m.length - 1);
      expect(RAW.test(m.slice(0, -1))).toBe(false);
      const text = logged("text", new Redactor(), "m", { v });
      expect(text.indexOf("\n")).toBe(text.length - 1);
      expect(RAW.test(text.slice(0, -1))).toBe(false);
      const raw = text.slice("latchkey: info: m v=".length, -1);
      expect(raw.startsWith('"') ? JSON.parse(raw) : raw).toBe(v);
      const json = logged("json", new Redactor(), msg, { v });
      expect(json.indexOf("\n")).toBe(json.length - 1);
      expect(RAW.test(json.slice(0, -1))).toBe(false);
      expect(JSON.parse(json)).toMatchObject({ msg, v });
    }), { numRuns: 300 });
  });
});

describe("Logger: latchkey's own numbers and times", () => {
  it("a numeric secret does not mask a pid, a code or the JSON time, and JSON lines stay JSON", () => {
    const r = new Redactor();
    const year = String(new Date().getUTCFullYear());
    r.add("4242");
    r.add(year);
    r.add("s3cret-string");
    const json = logged("json", r, "app started", { pid: 4242, command: "/bin/s3cret-string" });
    const rec = JSON.parse(json) as Record<string, unknown>;
    expect(rec).toMatchObject({ pid: 4242, command: "/bin/[redacted]" });
    expect(String(rec.time).startsWith(`${year}-`)).toBe(true);
    expect(logged("text", r, "app started", { pid: 4242, path: "/x/s3cret-string" }))
      .toBe("latchkey: info: app started pid=4242 path=/x/[redacted]\n");
    // A string field still is masked, even when it only holds digits: a string can quote a value.
    expect(logged("text", r, "m", { v: "4242" })).toBe("latchkey: info: m v=[redacted]\n");
  });
});
