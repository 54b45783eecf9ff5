/**
 * scanSecretsDir's answer for a directory that is not there: the default one (optional) is
 * skipped, a named one is an error, and anything else wrong with either path is reported.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scanSecretsDir } from "../../../src/sources/file/dir.ts";

const d = mkdtempSync(join(tmpdir(), "latchkey-secrets-dir-"));
afterAll(() => rmSync(d, { recursive: true, force: true }));
const opts = (optional: boolean) => ({ maxSize: 1024, optional });

describe("scanSecretsDir: a directory that is not there", () => {
  it("the default dir absent, or under a file, or a dangling symlink: skipped", () => {
    writeFileSync(join(d, "file"), "x");
    symlinkSync(join(d, "nowhere"), join(d, "dangling"));
    for (const p of [join(d, "absent"), join(d, "file", "secrets"), join(d, "dangling")]) expect(scanSecretsDir(p, opts(true)), p).toBeNull();
  });

  it("a named dir absent: an error that says so", () => {
    expect(() => scanSecretsDir(join(d, "absent"), opts(false))).toThrow(/secrets dir .*absent does not exist \(--secrets-dir\)/);
  });

  it("a symlink loop is reported, default dir or not", () => {
    symlinkSync(join(d, "loop"), join(d, "loop"));
    for (const optional of [true, false]) expect(() => scanSecretsDir(join(d, "loop"), opts(optional))).toThrow(/too many levels of symbolic links/);
  });

  it("a file where the dir should be is reported, default dir or not", () => {
    for (const optional of [true, false]) expect(() => scanSecretsDir(join(d, "file"), opts(optional))).toThrow(/is not a directory/);
  });

  it("a dir that is there is read", () => {
    const s = mkdtempSync(join(d, "s-"));
    writeFileSync(join(s, "db-password"), "pw\n");
    expect(scanSecretsDir(s, opts(true))!.map((e) => e.name)).toEqual(["db-password"]);
  });
});
