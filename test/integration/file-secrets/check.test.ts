/** `latchkey check`: the dry run lists names, sources, lengths, fingerprints — never values. */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { FX, SECRET_VALUES, SSH_KEY } from "../../fixtures/secret-values.ts";
import { cleanEnv, probe, readProbe, workspace, writeFiles } from "./fixtures.ts";

const ws = workspace("check");
const dir = writeFiles(ws.path("s"), { "db-password": `${FX.dbPassword}\n`, "api-key": FX.apiKey, ssh_id_ed25519: SSH_KEY });
const refDir = writeFiles(ws.path("r"), { ref: FX.ref });
// A fixed key makes the fingerprints computable here (without it each run draws its own key).
const KEY = "check-test-fingerprint-key-0123456789";
writeFileSync(ws.path("fp.key"), KEY);
const sha = (v: string): string => createHmac("sha256", KEY).update(v).digest("hex").slice(0, 16);

function noValues(text: string): void {
  for (const v of SECRET_VALUES) expect(text).not.toContain(v);
}

describe("latchkey check", () => {
  it("text: each variable with its source, length and fingerprint; scrubbed and removed lists", async () => {
    const env = cleanEnv({ REF: `file://${refDir}/ref`, LATCHKEY_LOG_LEVEL: "debug", PG_FILE: join(dir, "api-key") });
    const r = await latchkey(["check", "--secrets-dir", dir, "--ssh-dir", ws.path("home", ".ssh"), "--require", "DB_PASSWORD", "--on-conflict", "precedence", "--fingerprint-key-file", ws.path("fp.key")], { env });
    expect(r.code, r.stderr).toBe(0);
    noValues(r.stdout + r.stderr);
    expect(r.stdout).toMatch(new RegExp(`DB_PASSWORD\\s+secrets dir\\s+${dir}/db-password\\s+${FX.dbPassword.length}\\s+${sha(FX.dbPassword)}`));
    expect(r.stdout).toMatch(new RegExp(`REF\\s+reference\\s+REF=file://${refDir}/ref\\s+${FX.ref.length}\\s+${sha(FX.ref)}`));
    expect(r.stdout).toMatch(/PG\s+VAR_FILE\s+PG_FILE=/);
    expect(r.stdout).toContain(`${ws.path("home", ".ssh", "id_ed25519")}  0600`);
    expect(r.stdout).toMatch(/LATCHKEY_LOG_LEVEL\s+\(latchkey setting\)/);
    expect(r.stdout).toContain("removed from the app's env (VAR_FILE read): PG_FILE");
    expect(r.stdout).toContain("required: DB_PASSWORD ok");
    expect(r.stdout).toContain("ok: the app would start");
  });

  it("json: machine-readable, same content, no values; nothing installed, no app started", async () => {
    const r = await latchkey(["check", "--format", "json", "--secrets-dir", dir, "--ssh-dir", ws.path("home2", ".ssh"), "--fingerprint-key-file", ws.path("fp.key")], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    noValues(r.stdout);
    const j = JSON.parse(r.stdout) as { ok: boolean; variables: Array<{ name: string; source: string; length: number; fingerprint: string }>; ssh: Array<{ path: string; mode: string }> };
    expect(j.ok).toBe(true);
    expect(j.variables).toContainEqual({ name: "API_KEY", kind: "secrets dir", source: `${dir}/api-key`, length: FX.apiKey.length, fingerprint: sha(FX.apiKey) });
    expect(j.ssh).toMatchObject([{ path: ws.path("home2", ".ssh", "id_ed25519"), mode: "0600" }]);
    const { existsSync } = await import("node:fs");
    expect(existsSync(ws.path("home2"))).toBe(false);
  });

  it("fails with the same error and exit code as a real start, in text and json", async () => {
    writeFileSync(ws.path("cfg.yaml"), `secrets:\n  DB_PASSWORD:\n    minLength: 40\n`);
    const args = ["--config", ws.path("cfg.yaml"), "--secrets-dir", dir, "--ssh", "none"];
    const o = ws.path("out", "env");
    const real = await latchkey([...args, "--", ...probe(o)], { env: cleanEnv() });
    const dry = await latchkey(["check", ...args], { env: cleanEnv() });
    const json = await latchkey(["check", "--format", "json", ...args], { env: cleanEnv() });
    expect(real.code).toBe(65);
    expect(readProbe(o)).toBeNull();
    expect(dry.code).toBe(65);
    expect(json.code).toBe(65);
    const line = real.stderr.trim();
    expect(line).toMatch(/DB_PASSWORD \(from .*db-password\) is shorter than 40 characters \(.*cfg.yaml: secrets.DB_PASSWORD.minLength\)/);
    expect(dry.stderr.trim()).toBe(line);
    expect(dry.stdout).toContain("FAILED: the app would not start (exit 65)");
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, errors: [{ code: "invalid_secret", exitCode: 65 }] });
    noValues(real.stderr + dry.stdout + dry.stderr + json.stdout + json.stderr);

    // A failure while loading (before any report can be built) is JSON too.
    const bad = await latchkey(["check", "--format", "json", "--secrets-dir", ws.path("missing")], { env: cleanEnv() });
    expect(bad.code).toBe(66);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, errors: [{ code: "no_input", exitCode: 66 }] });
  });

  it("with a command, also resolves it (not found → 127, as a real start)", async () => {
    const r = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none", "--", "no-such-command-xyz"], { env: cleanEnv() });
    expect(r.code).toBe(127);
    const ok = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none", "--", "sh", "-c", "exit 3"], { env: cleanEnv() });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("command: /");
  });

  it("--check-gate runs the startup gate too, with the real start's exit code (69)", async () => {
    const r = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none", "--check-gate", "--wait", "tcp://127.0.0.1:1", "--wait-timeout", "1s", "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(69);
    expect(r.stdout).toContain("FAILED: the app would not start (exit 69)");
    const ok = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none", "--check-gate", "--", "true"], { env: cleanEnv() });
    expect(ok.code, ok.stderr).toBe(0);
    const noCommand = await latchkey(["check", "--check-gate"], { env: cleanEnv() });
    expect(noCommand.code).toBe(64);
    expect(noCommand.stderr).toContain("check --check-gate needs the app's command");
  });
});
