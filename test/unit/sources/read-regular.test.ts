/** The one reader every file goes through (issue 12, finding 8): non-blocking, regular files only. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileReadError, readCheckedFile, readRegularFile, readSecretFile } from "../../../src/sources/file/read.ts";

const d = mkdtempSync(join(tmpdir(), "latchkey-read-"));
afterAll(() => rmSync(d, { recursive: true, force: true }));

describe("readRegularFile", () => {
  it("reads a regular file, and one reached through a symlink unless noFollow", () => {
    writeFileSync(join(d, "f"), "abc");
    symlinkSync(join(d, "f"), join(d, "l"));
    expect(readRegularFile(join(d, "f"), 10).bytes.toString()).toBe("abc");
    expect(readRegularFile(join(d, "l"), 10).bytes.toString()).toBe("abc");
    expect(() => readRegularFile(join(d, "l"), 10, { noFollow: true })).toThrow(expect.objectContaining({ code: "ELOOP" }));
  });
  it("a FIFO fails at once, without a writer (no blocking open)", () => {
    execFileSync("mkfifo", [join(d, "p")]);
    const t0 = Date.now();
    expect(() => readRegularFile(join(d, "p"), 10)).toThrow(FileReadError);
    expect(() => readRegularFile(join(d, "p"), 10)).toThrow(/a FIFO, not a regular file/);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(() => readSecretFile(join(d, "p"), 10, "secret file p")).toThrow(/secret file p is a FIFO/);
  });
  it("a directory, a device, a file over the limit", () => {
    expect(() => readRegularFile(d, 10)).toThrow(/a directory/);
    expect(() => readRegularFile("/dev/null", 10)).toThrow(/a character device/);
    writeFileSync(join(d, "big"), "x".repeat(11));
    expect(() => readRegularFile(join(d, "big"), 10)).toThrow(expect.objectContaining({ code: "EFBIG" }));
  });
  it("readCheckedFile: the path read must be the path checked (no symlink at its end)", () => {
    expect(readCheckedFile(join(d, "f"), 10, "X").bytes.toString()).toBe("abc");
    expect(() => readCheckedFile(join(d, "l"), 10, "X")).toThrow(/symbolic links/);
  });
});
