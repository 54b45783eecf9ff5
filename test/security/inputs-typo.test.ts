/**
 * Finding 12: a reference written with the wrong case or stray blanks (`Vault://`, `FILE://`,
 * ` vault://`) is a typo, not a value to hand to the app: exit 78 naming the variable, in
 * `check` too, and the value is never printed.
 */
import { mkdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { env, lines, probe, readProbe, tempRoot } from "./inputs-fixtures.ts";

const t = tempRoot("typo");
const EMPTY = t.path("secrets");
mkdirSync(EMPTY);

describe("finding 12: reference typos in case and whitespace are errors", () => {
  it.each([
    "Vault://secret/data/app#pw7x",
    "VAULT://secret/data/app#pw7x",
    "FILE:///run/secrets/pw7x",
    "File:///run/secrets/pw7x",
    "AWS-SM://prod/pw7x",
    " vault://secret/data/app#pw7x",
    "vault://secret/data/app#pw7x ",
    "\tfile:///run/secrets/pw7x",
    "file:///run/secrets/pw7x\n",
  ])("%j → 78 in check and in a run, naming the variable, never the value", async (value) => {
    for (const args of [["check"], ["--", ...probe(t.path("out"))]]) {
      const r = await latchkey(["--secrets-dir", EMPTY, ...args], { env: env(t.home, { API_KEY: value, VAULT_ADDR: "http://127.0.0.1:9", LATCHKEY_FETCH_TIMEOUT: "2s" }), timeoutMs: 20_000 });
      expect(r.code, r.stderr).toBe(78);
      const l = lines(r.stderr);
      expect(l).toHaveLength(1);
      expect(l[0]).toMatch(/API_KEY/);
      expect(r.stderr + r.stdout).not.toContain("pw7x");
      expect(readProbe(t.path("out"))).toBeNull();
    }
  });

  it("a well-known URL scheme in any case or with blanks is still a plain value", async () => {
    const out = t.path("plain");
    const r = await latchkey(["--secrets-dir", EMPTY, "--", ...probe(out)], { env: env(t.home, { A: "HTTPS://example.com", B: " postgres://db/x" }) });
    expect(r.code, r.stderr).toBe(0);
    expect(readProbe(out)).toMatchObject({ A: "HTTPS://example.com", B: " postgres://db/x" });
  });
});
