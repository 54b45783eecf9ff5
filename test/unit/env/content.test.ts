import { describe, expect, it } from "vitest";
import { decodeSecret, expandPairs, parseSize, selectKey, trim } from "../../../src/env/content.ts";

const rules = { maxSize: 64, trim: "newline" as const, base64: false };

describe("decodeSecret", () => {
  it("trims exactly one trailing newline by default", () => {
    expect(decodeSecret(Buffer.from("pw\n\n"), rules, "x")).toBe("pw\n");
    expect(decodeSecret(Buffer.from("pw\r\n"), rules, "x")).toBe("pw");
    expect(decodeSecret(Buffer.from("pw"), rules, "x")).toBe("pw");
    expect(trim("pw \n\t\n", "space")).toBe("pw");
    expect(trim("pw\n", "none")).toBe("pw\n");
  });

  it("rejects NUL bytes, bad UTF-8 and oversize with DATA (65), naming the secret and not the value", () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from("ab\0cd"), /secret-x contains a NUL byte at offset 2/],
      [Buffer.from([0x61, 0xff, 0x62]), /secret-x is not valid UTF-8/],
      [Buffer.alloc(65, 0x61), /secret-x is too large: 65 bytes, limit 64/],
    ];
    for (const [buf, msg] of cases) {
      try {
        decodeSecret(buf, rules, "secret-x");
        expect.unreachable();
      } catch (e) {
        expect((e as Error).message).toMatch(msg);
        expect((e as { exitCode: number }).exitCode).toBe(65);
        expect((e as Error).message).not.toContain("cd");
      }
    }
  });

  it("passes binary secrets declared base64 as base64, untrimmed", () => {
    const bin = Buffer.from([0, 1, 2, 0xff, 10]);
    expect(decodeSecret(bin, { ...rules, base64: true }, "x")).toBe(bin.toString("base64"));
  });
});

describe("expandPairs", () => {
  it("fans out a JSON object, stringifying non-strings, with key selection", () => {
    const text = JSON.stringify({ user: "u", port: 5432, tls: true, extra: { a: 1 }, none: null });
    expect(expandPairs(text, { format: "json" }, "x")).toEqual([["user", "u"], ["port", "5432"], ["tls", "true"], ["extra", '{"a":1}'], ["none", ""]]);
    expect(expandPairs(text, { format: "json", keys: ["port"] }, "x")).toEqual([["port", "5432"]]);
    expect(() => expandPairs(text, { format: "json", keys: ["nope"] }, "x")).toThrow(/selected key 'nope' is not in the json secret/);
  });

  it("fans out dotenv", () => {
    expect(expandPairs("A=1\n# c\nexport B='two words'\n", { format: "dotenv" }, "x")).toEqual([["A", "1"], ["B", "two words"]]);
  });

  it("rejects invalid JSON and non-objects without quoting the content", () => {
    try {
      expandPairs('{"password": "s3cr3t-value", ', { format: "json" }, "secret file /s/db.json");
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/secret file \/s\/db.json is not valid JSON/);
      expect((e as Error).message).not.toContain("s3cr3t");
      expect((e as { exitCode: number }).exitCode).toBe(65);
    }
    expect(() => expandPairs("[1]", { format: "json" }, "x")).toThrow(/needs a JSON object, got an array/);
  });

  it("selectKey picks one key", () => {
    expect(selectKey('{"a":"1","b":"2"}', "b", "x")).toBe("2");
  });
});

describe("parseSize", () => {
  it.each([["65536", 65536], ["64KiB", 65536], ["64k", 65536], ["1MiB", 1048576], ["2mb", 2097152], [" 64 KiB ", 65536], ["10B", 10]])("%s", (s, n) => {
    expect(parseSize(s)).toBe(n);
  });
  it.each(["", "0", "-1", "1.5k", "lots", "1GiB", "k", "1e3", "64 ki b", "99999999999999999m"])("rejects %j", (s) => {
    expect(parseSize(s)).toBeNull();
  });
});
