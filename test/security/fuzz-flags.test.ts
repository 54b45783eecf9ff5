/**
 * No command line or config file crashes latchkey: random flags with random values, and random
 * YAML/JSON config files, through the built binary's `check`, give a documented exit code and
 * at most one error line, never INTERNAL (70), never a hang. HOME is a temporary directory: a
 * ~/.vault-token on the machine running the suite must not send latchkey to Vault.
 */
import fc from "fast-check";
import { mkdirSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { registerConcerns } from "../../src/register.ts";
import { allFlags, configKey } from "../../src/cli/flags.ts";
import { EXIT_CODE_TABLE } from "../../src/errors.ts";
import { latchkey } from "../helpers/run.ts";
import { env, lines, tempRoot } from "./inputs-fixtures.ts";

registerConcerns();
const t = tempRoot("fuzz-flags");
// One small secret: reading it sets aside --max-size bytes (a huge --max-size once failed there)
const EMPTY = t.path("secrets");
mkdirSync(EMPTY);
writeFileSync(t.path("secrets", "fuzz_secret"), "fuzz-value-1");
writeFileSync(t.path("home", ".vault-token"), "s.should-never-be-used"); // proves HOME is ours: never read without a vault:// reference
/** Exit codes latchkey documents for itself; 70 (INTERNAL) is a bug, and so is anything else. */
const DOCUMENTED = EXIT_CODE_TABLE.map((e) => e.code).filter((c) => c >= 9 && c < 126 && c !== 70);
/** Flags whose effect is outside a dry run (the gate runs for real) or that print and exit. */
const SKIP = new Set(["check-gate", "help", "version", "config"]);
const FLAGS = allFlags().filter((f) => !SKIP.has(f.name));

const values = fc.oneof(
  fc.constantFrom("", " ", "-1s", "-1", "0", "1", "0.5", "1e3", "0x10", "9999999MiB", "64KiB", "5s", "2m", "true", "no", "TERM:0", "TERM:QUIT", "KILL:TERM",
    "a=b", "=", ",", "::", ":", "root", "nobody:nogroup", "65534", "4294967295", "/nonexistent", "/dev/null", "/etc/passwd", "json", "dotenv", "all", "off",
    "none", "debug", "silent", "tcp://127.0.0.1:9", "http://127.0.0.1:9/", "file:///nonexistent", "Vault://x", "é", "\u200b", "x".repeat(300)),
  fc.string({ maxLength: 16 }).filter((s) => !s.includes("\0")),
);
const flagArgs = fc.array(fc.tuple(fc.constantFrom(...FLAGS), values, fc.boolean()), { minLength: 1, maxLength: 4 }).map((picks) =>
  picks.flatMap(([f, v, joined]) => (f.type === "boolean" ? (joined ? [`--${f.name}=${v}`] : [`--${f.name}`]) : joined ? [`--${f.name}=${v}`] : [`--${f.name}`, v])));

function expectDocumented(r: { code: number | null; signal: string | null; stdout: string; stderr: string }, what: string): void {
  expect(r.signal, `${what}: killed (hang?): ${r.stderr}`).toBeNull();
  expect([0, ...DOCUMENTED], `${what}: exit ${r.code}: ${r.stderr}`).toContain(r.code);
  // node:util's "argument is ambiguous" names no fix; a stack or ERR_* code is a crash
  expect(r.stderr, what).not.toMatch(/internal error|ERR_[A-Z_]+|at .*\.ts:\d+|ambiguous/);
  // 9: the Node runtime's own line per missing --env-file, before latchkey runs (README, exit codes)
  if (r.code === 9) for (const l of lines(r.stderr)) expect(l, what).toMatch(/: not found$/);
  else if (r.code !== 0) expect(lines(r.stderr).filter((l) => l.includes("error")), `${what}: ${r.stderr}`).toHaveLength(1);
}

let n = 0;
describe("fuzzing flags and config files through the built binary", () => {
  it("random flags and values: a documented exit code, one error line, never 70 or a hang", async () => {
    await fc.assert(fc.asyncProperty(flagArgs, async (flags) => {
      const r = await latchkey(["check", "--secrets-dir", EMPTY, ...flags], { env: env(t.home, { LATCHKEY_FETCH_TIMEOUT: "2s" }), timeoutMs: 20_000 });
      expectDocumented(r, JSON.stringify(flags));
    }), { numRuns: 60 });
  });

  const scalar = fc.oneof(values, fc.integer({ min: -5, max: 100000 }), fc.boolean(), fc.constant(null), fc.double({ noNaN: false }));
  const leaf = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.constantFrom("a", "DB_PASSWORD", "expand", "required", "address", "method"), scalar, { maxKeys: 3 }));
  const key = fc.oneof(
    fc.constantFrom(...allFlags().map((f) => configKey(f.name))),
    fc.constantFrom("secrets", "sources", "vault", "aws", "policy", "rotation", "ssh", "gate", "wait"),
    fc.string({ minLength: 1, maxLength: 10 }),
  );
  const doc = fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 5 });

  it("random YAML and JSON config files: a documented exit code, one error line, never 70 or a hang", async () => {
    const { stringify } = await import("yaml");
    await fc.assert(fc.asyncProperty(doc, fc.boolean(), async (d, json) => {
      const file = t.path(`c${n++}.${json ? "json" : "yaml"}`);
      writeFileSync(file, json ? JSON.stringify(d) : stringify(d));
      const r = await latchkey(["check", "--secrets-dir", EMPTY, "--config", file], { env: env(t.home, { LATCHKEY_FETCH_TIMEOUT: "2s" }), timeoutMs: 20_000 });
      expectDocumented(r, `${file}: ${JSON.stringify(d)}`);
    }), { numRuns: 60 });
  });

  it("random bytes as a config file: refused in one line", async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, json) => {
      const file = t.path(`b${n++}.${json ? "json" : "yml"}`);
      writeFileSync(file, bytes);
      const r = await latchkey(["check", "--secrets-dir", EMPTY, "--config", file], { env: env(t.home), timeoutMs: 20_000 });
      expectDocumented(r, file);
    }), { numRuns: 30 });
  });
});
