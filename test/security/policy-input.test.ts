/**
 * Issue 12, finding 18 (the policy and file-read items): input that was accepted and
 * ignored must fail before the app starts, on one line, with its documented exit code.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, workspace } from "../integration/file-secrets/fixtures.ts";

const ws = workspace("policy-input");
const HOME = ws.path("home");
mkdirSync(HOME);
const APP = ["--", "sh", "-c", "echo APP-STARTED"];
const run = (args: string[], extra: Record<string, string> = {}) => latchkey(args, { env: cleanEnv({ HOME, ...extra }), timeoutMs: 20_000 });
function oneLine(r: { stderr: string; stdout: string }) {
  expect(r.stdout).not.toContain("APP-STARTED");
  expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
}

describe("a broken --policy file", () => {
  it("fails the run even when no reference is used (78)", async () => {
    const bad = ws.path("bad.yaml");
    writeFileSync(bad, "allow:\n  vault: [\n");
    const r = await run(["--policy", bad, ...APP]);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(bad);
    oneLine(r);
    const unknownKey = ws.path("unknown.yaml");
    writeFileSync(unknownKey, "alow:\n  vault: [x]\n");
    const r2 = await run(["--policy", unknownKey, ...APP]);
    expect(r2.code, r2.stderr).toBe(78);
    expect(r2.stderr).toMatch(/policy\.alow.*unknown key/);
    oneLine(r2);
    const r3 = await run(["--policy", ws.path("absent.yaml"), ...APP]);
    expect(r3.code, r3.stderr).toBe(78);
    oneLine(r3);
  });
});

describe("file:// parameters", () => {
  it("an unknown parameter is an error naming it and saying what is valid (78)", async () => {
    const f = ws.path("s");
    writeFileSync(f, "file-param-value");
    const r = await run(APP, { X: `file://${f}?mode=0400` });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/unknown parameter 'mode' \(file:\/\/ takes no parameters/);
    oneLine(r);
  });
});

describe("--map", () => {
  it("naming a file the secrets dir does not have is an error naming it (66)", async () => {
    const d = ws.path("secrets");
    mkdirSync(d);
    writeFileSync(ws.path("secrets", "db_password"), "map-value");
    const r = await run(["--secrets-dir", d, "--map", "db_pasword=DB_PASSWORD", ...APP]);
    expect(r.code, r.stderr).toBe(66);
    expect(r.stderr).toContain("'db_pasword'");
    oneLine(r);
    const ok = await run(["--secrets-dir", d, "--map", "db_password=DB_PASSWORD", "--", "sh", "-c", 'test "$DB_PASSWORD" = map-value && echo MAPPED']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("MAPPED");
  });
});
