/**
 * Finding 5: a `.env` file the app can write (`--dotenv`) is not a way to make root read files
 * or secret managers for it. Its values are plain values; `--dotenv-references` opts in.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { latchkey, start } from "../helpers/run.ts";
import { env, lines, probe, readProbe, tempRoot } from "./inputs-fixtures.ts";

const t = tempRoot("dotenv-refs");
const SECRET = "root-only-8c1f2e";
const target = t.path("root-only");
writeFileSync(target, SECRET);
chmodSync(target, 0o600);
const EMPTY = t.path("secrets");
mkdirSync(EMPTY);

function dotenvFile(name: string, body: string): string {
  const f = t.path(name);
  writeFileSync(f, body);
  chmodSync(f, 0o666); // app-writable, as the attack assumes
  return f;
}

describe("finding 5: dotenv values are plain values", () => {
  it("file://, NAME_FILE, vault:// and aws-sm:// in a dotenv file reach the app literally, nothing is read", async () => {
    const f = dotenvFile("app.env", [
      `A=file://${target}`,
      `B_FILE=${target}`,
      "C=\"vault://secret/data/app#password\"",
      "D=aws-sm://prod/db",
      "E=Vault://typo",
      "",
    ].join("\n"));
    const out = t.path("probe-literal");
    const r = await latchkey(["--secrets-dir", EMPTY, "--dotenv", f, "--", ...probe(out)],
      { env: env(t.home, { VAULT_ADDR: "http://127.0.0.1:9", LATCHKEY_FETCH_TIMEOUT: "2s" }), timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    const got = readProbe(out)!;
    expect(got.A).toBe(`file://${target}`);
    expect(got.B_FILE).toBe(target);
    expect(got.B).toBeUndefined();
    expect(got.C).toBe("vault://secret/data/app#password");
    expect(got.D).toBe("aws-sm://prod/db");
    expect(got.E).toBe("Vault://typo");
    expect(Object.values(got)).not.toContain(SECRET);
    // a warning may name the variable, never its value
    expect(r.stderr).not.toContain(target);
    expect(r.stderr).not.toContain("secret/data/app");
  });

  it("check reports the same: no reference resolved from a dotenv file", async () => {
    const f = dotenvFile("check.env", `A=file://${target}\n`);
    const r = await latchkey(["check", "--format", "json", "--secrets-dir", EMPTY, "--dotenv", f], { env: env(t.home) });
    expect(r.code, r.stderr).toBe(0);
    const vars = JSON.parse(r.stdout).variables as Array<{ name: string; kind: string; length: number }>;
    expect(vars.find((v) => v.name === "A")).toMatchObject({ kind: "env file", length: `file://${target}`.length });
  });

  it("--dotenv-references (opt-in) resolves them as before", async () => {
    const f = dotenvFile("optin.env", `A=file://${target}\n`);
    const out = t.path("probe-optin");
    const r = await latchkey(["--secrets-dir", EMPTY, "--dotenv", f, "--dotenv-references", "--", ...probe(out)], { env: env(t.home) });
    expect(r.code, r.stderr).toBe(0);
    expect(readProbe(out)!.A).toBe(SECRET);
  });

  it("LATCHKEY_DOTENV_REFERENCES=true opts in too", async () => {
    const f = dotenvFile("optin-env.env", `A=file://${target}\n`);
    const out = t.path("probe-optin-env");
    const r = await latchkey(["--secrets-dir", EMPTY, "--dotenv", f, "--", ...probe(out)],
      { env: env(t.home, { LATCHKEY_DOTENV_REFERENCES: "true" }) });
    expect(r.code, r.stderr).toBe(0);
    expect(readProbe(out)!.A).toBe(SECRET);
  });

  it("invalid UTF-8 in a dotenv file: exit 65 naming the file and the line (finding 18)", async () => {
    const f = t.path("bad-utf8.env");
    writeFileSync(f, Buffer.concat([Buffer.from("A=1\nB=2\nC=x"), Buffer.from([0xff, 0xfe]), Buffer.from("y\n")]));
    const out = t.path("probe-utf8");
    const r = await latchkey(["--secrets-dir", EMPTY, "--dotenv", f, "--", ...probe(out)], { env: env(t.home) });
    expect(r.code, r.stderr).toBe(65);
    const l = lines(r.stderr);
    expect(l).toHaveLength(1);
    expect(l[0]).toContain(f);
    expect(l[0]).toMatch(/line 3\b/);
    expect(readProbe(out)).toBeNull();
  });

  it("the watched .env: the app's own edit adding file:// and NAME_FILE makes root read nothing", async () => {
    const f = dotenvFile("watched.env", "MODE=one\n");
    const out = t.path("probe-watched");
    const runs = t.path("runs");
    // each start appends a line to `runs` and records the env; the app then waits
    const app = ["/bin/sh", "-c", 'env -0 > "$0"; echo x >> "$1"; exec sleep 30', out, runs];
    const { proc, done } = start(LATCHKEY, ["--secrets-dir", EMPTY, "--dotenv", f, "--debounce", "100ms", "--stop-timeout", "2s", "--", ...app],
      { env: env(t.home), timeoutMs: 30_000 });
    const count = () => (existsSync(runs) ? readFileSync(runs, "utf8").split("\n").filter(Boolean).length : 0);
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(cond()).toBe(true);
    };
    await until(() => count() === 1);
    // the compromised app rewrites its .env (atomically, as an editor would)
    writeFileSync(`${f}.new`, `MODE=two\nA=file://${target}\nB_FILE=${target}\n`);
    renameSync(`${f}.new`, f);
    await until(() => count() === 2 && readProbe(out)?.MODE === "two");
    const got = readProbe(out)!;
    proc.kill("SIGTERM");
    await done;
    expect(got.A).toBe(`file://${target}`);
    expect(got.B_FILE).toBe(target);
    expect(Object.values(got)).not.toContain(SECRET);
  });
});
