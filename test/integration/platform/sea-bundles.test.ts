/**
 * The single executable's bundles (src/sea-assets.ts): a start compiles the main bundle with
 * its code cache and nothing else; the yaml parser, a side bundle, is compiled (with its own
 * cache) only by a run that reads a config file. LATCHKEY_CODE_CACHE_CHECK=1 makes the loader
 * name each bundle it compiles and the cache's verdict.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "latchkey-sea-bundles-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, LATCHKEY_CODE_CACHE_CHECK: "1" };
const verdicts = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("code cache: "));

describe("single executable bundles", () => {
  it("a start without a config file compiles the main bundle alone, from its cache", async () => {
    const r = await latchkey(["--", "true"], { env });
    expect(r.code).toBe(0);
    expect(verdicts(r.stderr)).toEqual(["code cache: latchkey-main.cjs: accepted"]);
  });

  // A path the build's training (build/train.ts) did not run compiles its functions at every
  // start: the --exec path's ~7 KB of bytecode was missing while the loader wrote caches only
  // at exit, which an execve skips. A few dozen bytes either way are V8's own noise.
  // The plain start has a cache of its own (src/sea-assets.ts, cacheFor), the others MAIN's.
  const bare = { PATH: process.env.PATH ?? "/usr/bin:/bin", LATCHKEY_CODE_CACHE_CHECK: "1" };
  it.each([
    ["plain", ["--", "true"], bare, "latchkey-plain.codecache"],
    ["--exec", ["--exec", "--", "true"], bare, "latchkey-plain.codecache"],
    ["plain with a setting", ["--", "true"], { ...bare, LATCHKEY_LOG_LEVEL: "warn" }, "latchkey.codecache"],
    ["--exec with a setting", ["--exec", "--", "true"], { ...bare, LATCHKEY_LOG_LEVEL: "warn" }, "latchkey.codecache"],
  ])("a %s start compiles nothing beyond its cache", async (_, args, env, cache) => {
    const r = await latchkey(args as string[], { env });
    expect(r.code).toBe(0);
    const growth = r.stderr.split("\n").find((l) => l.startsWith(`code cache growth: latchkey-main.cjs (${cache}): `));
    expect(growth, r.stderr).toBeDefined();
    expect(Math.abs(Number(growth!.split(": ")[2]!.split(" ")[0]))).toBeLessThan(1024);
  });

  it("a config file brings in the yaml side bundle, from its own cache, once", async () => {
    const config = join(dir, "latchkey.yaml");
    writeFileSync(config, "require: [FROM_ENV]\n");
    const ok = await latchkey(["--config", config, "--", "sh", "-c", "echo $FROM_ENV"], { env: { ...env, FROM_ENV: "v" } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("v\n");
    expect(verdicts(ok.stderr)).toEqual(["code cache: latchkey-main.cjs: accepted", "code cache: yaml.cjs: accepted"]);
    // The yaml parser really runs in it: the config's rule is applied.
    const missing = await latchkey(["--config", config, "--", "true"], { env });
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain("FROM_ENV");
  });

  // V8 copies a code cache that is not 8-byte aligned before reading it (~0.2 ms of a start
  // for the plain cache): the build pads each one into place (src/sea-assets.ts, wrapCache).
  // A file offset is the same modulo 8 as the address it is mapped at.
  it("every code cache sits 8-byte aligned in the executable", () => {
    const image = readFileSync(LATCHKEY);
    const caches = readdirSync(dirname(LATCHKEY)).filter((f) => f.endsWith(".codecache"));
    expect(caches).toContain("latchkey-plain.codecache");
    for (const f of caches) {
      const at = image.indexOf(readFileSync(join(dirname(LATCHKEY), f)));
      expect(at, f).toBeGreaterThan(0);
      expect(at % 8, f).toBe(0);
    }
  });

  it("the health probe compiles its own bundle only", async () => {
    const r = await latchkey(["health", "--timeout", "1s", "tcp://127.0.0.1:1"], { env });
    expect(r.code).toBe(1);
    expect(verdicts(r.stderr)).toEqual(["code cache: latchkey-health.cjs: accepted"]);
  });
});
