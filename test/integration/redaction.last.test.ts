/**
 * The redaction sweep. Runs after every other test file (vitest project "last", see
 * vitest.config.ts): test/helpers/run.ts appends every byte any test's processes printed to
 * .cache/test-output.log, and no fixture secret value (test/fixtures/secret-values.ts) nor
 * its base64 form may appear in it. It also runs its own battery over every failure path with
 * debug and JSON logging, and first proves that the scanner does catch a planted value.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { latchkey, OUTPUT_LOG } from "../helpers/run.ts";
import { FX, SECRET_VALUES, SSH_KEY } from "../fixtures/secret-values.ts";
import { cleanEnv, probe, workspace, writeFiles } from "./file-secrets/fixtures.ts";

function leaks(text: string, values: readonly string[]): string[] {
  const found: string[] = [];
  for (const v of values) {
    if (text.includes(v)) found.push(v);
    else if (v.length >= 8 && text.includes(Buffer.from(v).toString("base64"))) found.push(`base64(${v})`);
  }
  return found;
}

const ws = workspace("sweep");

describe("redaction sweep", () => {
  it("the scanner can fail: it finds a planted value and a planted base64 form", () => {
    expect(leaks(`ok\nlatchkey: error: ${FX.apiKey}\n`, SECRET_VALUES)).toEqual([FX.apiKey]);
    expect(leaks(`x ${Buffer.from(FX.dbPassword).toString("base64")} y`, SECRET_VALUES)).toEqual([`base64(${FX.dbPassword})`]);
    expect(leaks("latchkey: error: [redacted]", SECRET_VALUES)).toEqual([]);
  });

  it("a value quoted back in an error is masked, in text and JSON logs", async () => {
    // The dotenv value doubles as a (missing) file path, so the VAR_FILE error quotes it.
    const leaky = ws.path(`missing-${FX.weak}`);
    writeFileSync(ws.path("leaky.env"), `LEAKY=${leaky}\n`);
    for (const fmt of ["text", "json"]) {
      const r = await latchkey(["--log-format", fmt, "--log-level", "debug", "--dotenv", ws.path("leaky.env"), "--file-vars", "X", "--", "true"], {
        env: cleanEnv({ X_FILE: leaky }),
      });
      expect(r.code).toBe(66);
      expect(r.stderr).toContain("[redacted]");
      expect(leaks(r.stdout + r.stderr, SECRET_VALUES)).toEqual([]);
    }
  });

  it("every failure path, at debug level, in both log formats, prints no value", async () => {
    const dir = writeFiles(ws.path("s"), {
      "db-password": `${FX.dbPassword}\n`, "api-key": FX.apiKey, json: JSON.stringify({ user: FX.jsonUser, password: FX.jsonPassword }),
      ssh_id_ed25519: SSH_KEY, "production/db-password": FX.prodDb,
    });
    const bad = writeFiles(ws.path("bad"), { j: `{"password": "${FX.badJson}", ` });
    const ref = writeFiles(ws.path("r"), { r: FX.ref, c: FX.configSource });
    writeFileSync(ws.path("cfg.yaml"), `secrets:\n  DB_PASSWORD:\n    pattern: "^nomatch$"\n  API_KEY:\n    minLength: 99\n`);
    writeFileSync(ws.path("app.env"), `ENVF=${FX.envFile}\n`);
    const base = ["--secrets-dir", dir, "--ssh-dir", ws.path("home", ".ssh"), "--dotenv", ws.path("app.env"), "--env-name", "production"];
    const runs: string[][] = [
      [...base, "--", ...probe(ws.path("out", "a"))],
      ["check", ...base],
      ["check", "--format", "json", ...base, "--expand", "json=json"],
      ["--config", ws.path("cfg.yaml"), ...base, "--", "true"],
      ["check", "--config", ws.path("cfg.yaml"), ...base],
      ["--secrets-dir", bad, "--expand", "json", "--", "true"],
      ["--secrets-dir", dir, "--ssh", "none", "--", "true"],
      [...base, "--require", "NOPE", "--", "true"],
      [...base, "--", "no-such-command-here"],
    ];
    let all = "";
    for (const fmt of ["text", "json"]) {
      for (const args of runs) {
        const r = await latchkey(["--log-level", "debug", "--log-format", fmt, ...args], {
          env: cleanEnv({ REF: `file://${ref}/r`, TOKEN: `file://${ref}/c`, DB_PASSWORD_FILE: `${dir}/db-password` }),
        });
        all += r.stdout + r.stderr;
      }
    }
    expect(all.length).toBeGreaterThan(1000);
    expect(leaks(all, SECRET_VALUES)).toEqual([]);
  });

  it("nothing any integration test printed contains a fixture secret", () => {
    expect(existsSync(OUTPUT_LOG), `${OUTPUT_LOG} must exist (test/helpers/run.ts writes it)`).toBe(true);
    const log = readFileSync(OUTPUT_LOG, "utf8");
    console.log(`redaction sweep: scanned ${log.length} characters of test output for ${SECRET_VALUES.length} fixture values`);
    expect(log.length).toBeGreaterThan(0);
    expect(leaks(log, SECRET_VALUES)).toEqual([]);
  });
});
