import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Settings } from "../../../src/config/settings.ts";
import { registerSecretFlags } from "../../../src/env/flags.ts";
import { secretsOptions, type SecretsOptions } from "../../../src/env/options.ts";
import { prepareEnv } from "../../../src/env/prepare.ts";
import { validateSecrets } from "../../../src/env/required.ts";
import { varFileCandidates } from "../../../src/env/var-file.ts";
import { registerSecretSections } from "../../../src/env/rules.ts";
import { Logger } from "../../../src/log/logger.ts";
import { redactor } from "../../../src/log/redact.ts";
import { registerBuiltinSchemes } from "../../../src/sources/schemes.ts";

registerSecretFlags();
registerSecretSections();
registerBuiltinSchemes();
const log = new Logger(2);
log.level = "silent";

const root = mkdtempSync(join(tmpdir(), "lk-prepare-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function dir(files: Record<string, string>): string {
  const d = join(root, `d${n++}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(d, name, ".."), { recursive: true });
    writeFileSync(join(d, name), content);
  }
  mkdirSync(d, { recursive: true });
  return d;
}
function opts(flags: Record<string, string | boolean | string[]>, env: NodeJS.ProcessEnv = {}): SecretsOptions {
  return secretsOptions(new Settings({ flags, env }));
}
async function fails(p: Promise<unknown>, message: RegExp, exitCode: number): Promise<void> {
  await expect(p).rejects.toThrow(message);
  await p.catch((e: { exitCode: number }) => expect(e.exitCode).toBe(exitCode));
}

describe("prepareEnv", () => {
  it("maps a secrets dir into variables and never touches the inherited env object", async () => {
    const d = dir({ "db-password": "pw-aaaa\n", "api.key": "k-bbbb" });
    const inherited = Object.freeze({ PATH: "/bin", DB_PASSWORD: "old" });
    const p = await prepareEnv(inherited, opts({ "secrets-dir": [d] }), log);
    expect(p.env).toMatchObject({ PATH: "/bin", DB_PASSWORD: "pw-aaaa", API_KEY: "k-bbbb" });
    expect(inherited.DB_PASSWORD).toBe("old");
    expect(p.secrets.map((s) => [s.name, s.kind, s.source])).toEqual([["API_KEY", "dir", join(d, "api.key")], ["DB_PASSWORD", "dir", join(d, "db-password")]]);
    expect(redactor.redact("x pw-aaaa y")).toBe("x [redacted] y");
  });

  it("precedence: config sources > references > VAR_FILE > secrets dir > env file > inherited (with --on-conflict precedence)", async () => {
    const d = dir({ a: "from-dir", b: "from-dir", c: "from-dir", d: "from-dir", "ref-a": "from-ref", "ref-b": "from-ref", "file-a": "from-varfile", "file-b": "from-varfile", "cfg": "from-config" });
    const envFile = join(d, "..", `${n++}.env`);
    writeFileSync(envFile, "D=from-envfile\nE=from-envfile\n");
    const inherited = {
      A: `file://${d}/ref-a`, A_FILE: `${d}/file-a`,
      B: `file://${d}/ref-b`,
      C_FILE: `${d}/file-b`,
      E: "inherited", F: "inherited",
    };
    const o = opts({ "secrets-dir": [d], "on-conflict": "precedence", dotenv: [envFile], "file-vars": ["all"] });
    // A is both a reference and has A_FILE: that is "both set" — an error even under precedence.
    await fails(prepareEnv(inherited, o, log), /both A and A_FILE are set/, 78);
    delete (inherited as Record<string, string>).A_FILE;
    o.sources.set("B", `file://${d}/cfg`);
    const p = await prepareEnv(inherited, o, log);
    expect(p.env).toMatchObject({ A: "from-ref", B: "from-config", C: "from-varfile", D: "from-dir", E: "from-envfile", F: "inherited" });
    expect(p.overrides.map((x) => x.name).sort()).toEqual(["A", "B", "B", "C"]);
    expect(p.removed).toEqual(["C_FILE"]);
    expect(p.env.C_FILE).toBeUndefined();
  });

  it("two secret sources with different values are an error naming both, unless --on-conflict precedence", async () => {
    const d = dir({ "db-password": "one", "db_password": "two" });
    await fails(prepareEnv({}, opts({ "secrets-dir": [d] }), log),
      new RegExp(`DB_PASSWORD is set by two secret sources: secret file ${d}/db-password \\(secrets dir\\) and secret file ${d}/db_password \\(secrets dir\\)`), 78);
    const e = dir({ token: "dir-token" });
    const f = dir({ t: "ref-token" });
    await fails(prepareEnv({ TOKEN: `file://${f}/t` }, opts({ "secrets-dir": [e] }), log), /TOKEN is set by two secret sources: .*secrets dir.* and TOKEN=file:.*\(reference\)/, 78);
    // The same value twice (VAR_FILE pointing into the secrets dir) is not a conflict.
    const g = dir({ pg: "same" });
    const p = await prepareEnv({ PG_FILE: `${g}/pg` }, opts({ "secrets-dir": [g] }), log);
    expect(p.env.PG).toBe("same");
  });

  it("VAR_FILE auto: a path that leads into a secrets dir through a symlink counts; with no secrets dir there, only the spelling can", () => {
    const d = dir({ x: "X" });
    const out = dir({ plain: "P" });
    symlinkSync(join(d, "x"), join(out, "link"));
    const env = { X_FILE: join(out, "link"), P_FILE: join(out, "plain") };
    expect(varFileCandidates(env, opts({ "secrets-dir": [d] }))).toEqual({
      use: [{ name: "X", fileVar: "X_FILE", path: join(out, "link") }],
      ignored: ["P_FILE"],
    });
    const absent = join(root, "absent-secrets");
    const spelled = { ...env, Y_FILE: join(absent, "y") };
    expect(varFileCandidates(spelled, opts({ "secrets-dir": [absent] }))).toEqual({
      use: [{ name: "Y", fileVar: "Y_FILE", path: join(absent, "y") }],
      ignored: ["P_FILE", "X_FILE"],
    });
  });
  it("VAR_FILE: postgres/mysql conventions, removal, keep, auto vs all vs list", async () => {
    const d = dir({ pg: "pg-pass\n", my: "my-root" });
    const out = dir({ cert: "CERT" });
    const env = { POSTGRES_PASSWORD_FILE: `${d}/pg`, MYSQL_ROOT_PASSWORD_FILE: `${d}/my`, SSL_CERT_FILE: `${out}/cert`, OTHER_FILE: `${out}/cert` };
    const p = await prepareEnv(env, opts({ "secrets-dir": [d], ssh: ["none"] }), log);
    expect(p.env).toMatchObject({ POSTGRES_PASSWORD: "pg-pass", MYSQL_ROOT_PASSWORD: "my-root", SSL_CERT_FILE: `${out}/cert` });
    expect(p.env.POSTGRES_PASSWORD_FILE).toBeUndefined();
    expect(p.env.OTHER).toBeUndefined();
    expect(p.ignoredFileVars).toEqual(["OTHER_FILE", "SSL_CERT_FILE"]);
    const all = await prepareEnv(env, opts({ "secrets-dir": [d], "file-vars": ["all"], "keep-file-vars": true }), log);
    expect(all.env).toMatchObject({ OTHER: "CERT", SSL_CERT_FILE: `${out}/cert`, POSTGRES_PASSWORD_FILE: `${d}/pg` });
    expect(all.env.SSL_CERT).toBeUndefined();
    const list = await prepareEnv(env, opts({ "secrets-dir": [d], "file-vars": ["OTHER"] }), log);
    expect(list.env.OTHER).toBe("CERT");
    expect(list.env.POSTGRES_PASSWORD).toBeUndefined();
    await fails(prepareEnv({ ...env, POSTGRES_PASSWORD: "x" }, opts({ "secrets-dir": [d] }), log), /both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set/, 78);
    await fails(prepareEnv({ A_FILE: `${d}/missing` }, opts({ "secrets-dir": [d] }), log), /A_FILE=.*\/missing does not exist/, 66);
  });

  it("per-environment override dir, kubelet layout, symlinks leaving the dir refused", async () => {
    const d = dir({ "..2026_11_23_08_00_00.1/db-password": "v1", "..2026_11_23_08_00_00.1/production/db-password": "prod-v1", "..2026_11_23_08_00_00.1/api": "api-1" });
    symlinkSync("..2026_11_23_08_00_00.1", join(d, "..data"));
    for (const name of ["db-password", "production", "api"]) symlinkSync(join("..data", name), join(d, name));
    expect((await prepareEnv({}, opts({ "secrets-dir": [d] }), log)).env).toMatchObject({ DB_PASSWORD: "v1", API: "api-1" });
    const prod = await prepareEnv({}, opts({ "secrets-dir": [d], "env-name": "production" }), log);
    expect(prod.env.DB_PASSWORD).toBe("prod-v1");
    expect(prod.secrets.find((s) => s.name === "DB_PASSWORD")!.source).toBe(join(d, "production", "db-password"));
    // The kubelet's atomic swap: a new timestamped dir, then ..data is renamed over.
    mkdirSync(join(d, "..2026_11_23_09_00_00.2", "production"), { recursive: true });
    writeFileSync(join(d, "..2026_11_23_09_00_00.2", "db-password"), "v2");
    writeFileSync(join(d, "..2026_11_23_09_00_00.2", "api"), "api-2");
    symlinkSync("..2026_11_23_09_00_00.2", join(d, "..data_tmp"));
    renameSync(join(d, "..data_tmp"), join(d, "..data"));
    expect((await prepareEnv({}, opts({ "secrets-dir": [d] }), log)).env).toMatchObject({ DB_PASSWORD: "v2", API: "api-2" });

    const outside = dir({ x: "outside" });
    const e = dir({});
    symlinkSync(join(outside, "x"), join(e, "leak"));
    await fails(prepareEnv({}, opts({ "secrets-dir": [e] }), log), new RegExp(`secret file ${e}/leak is a symlink to ${outside}/x, outside the secrets dir ${e}; refused`), 77);
  });

  it("missing dirs: the default is fine, a requested one is an error", async () => {
    const o = opts({});
    o.dirs = [{ path: join(root, "nope"), optional: true }];
    expect((await prepareEnv({ A: "1" }, o, log)).env).toEqual({ A: "1" });
    await fails(prepareEnv({}, opts({ "secrets-dir": [join(root, "nope")] }), log), /secrets dir .*nope does not exist/, 66);
  });

  it("bad content, names and permissions are precise errors", async () => {
    await fails(prepareEnv({}, opts({ "secrets-dir": [dir({ "1bad": "x" })] }), log), /secret file .*1bad: '1bad' maps to '1BAD', which is not a valid variable name.*--map '1bad=NAME'/, 78);
    await fails(prepareEnv({}, opts({ "secrets-dir": [dir({ big: "x".repeat(100) })], "max-size": "64" }), log), /secret file .*big is too large: 100 bytes, limit 64/, 65);
    await fails(prepareEnv({}, opts({ "secrets-dir": [dir({ j: "{nope" })], expand: ["j=json"] }), log), /secret file .*\/j is not valid JSON/, 65);
    await fails(prepareEnv({}, opts({ "secrets-dir": [dir({ n: "a\0b" })] }), log), /secret file .*\/n contains a NUL byte/, 65);
    const b = await prepareEnv({}, opts({ "secrets-dir": [dir({ n: "a\0b" })], base64: ["n"] }), log);
    expect(b.env.N).toBe(Buffer.from("a\0b").toString("base64"));
    if (process.getuid!() !== 0) {
      const d = dir({ locked: "x" });
      chmodSync(join(d, "locked"), 0);
      await fails(prepareEnv({}, opts({ "secrets-dir": [d] }), log), /locked: permission denied \(latchkey runs as uid \d+/, 77);
    }
  });

  it("expand json with prefix and keys; --prefix and --map", async () => {
    const d = dir({ "db.json": JSON.stringify({ user: "u", password: "p-json", host: "h" }), "db-password": "x1", other: "x2" });
    const p = await prepareEnv({}, opts({ "secrets-dir": [d], expand: ["db.json=json"], prefix: "APP_", map: ["other=OTHER_NAME"] }), log);
    expect(p.env).toMatchObject({ APP_DB_JSON_USER: "u", APP_DB_JSON_PASSWORD: "p-json", APP_DB_PASSWORD: "x1", OTHER_NAME: "x2" });
    const o = opts({ "secrets-dir": [d] });
    o.rules.set("db.json", { origin: "t", expand: { format: "json", prefix: "DB_", keys: ["user", "password"] } });
    // db.json's "password" key and the db-password file both make DB_PASSWORD: a conflict.
    await fails(prepareEnv({}, o, log), /DB_PASSWORD is set by two secret sources: secret file .*db-password .* and secret file .*db.json/, 78);
    o.rules.set("db.json", { origin: "t", expand: { format: "json", prefix: "DB_", keys: ["user", "host"] } });
    const q = await prepareEnv({}, o, log);
    expect(q.env).toMatchObject({ DB_USER: "u", DB_HOST: "h", DB_PASSWORD: "x1" });
  });

  it("scrubs latchkey's own variables (shown in the list), with --keep-env to opt out", async () => {
    const env = { LATCHKEY_LOG_LEVEL: "info", LATCHKEY_SOMETHING: "1", APP: "x" };
    const p = await prepareEnv(env, opts({ "secrets-dir": [dir({})] }), log);
    expect(p.env).toEqual({ APP: "x" });
    expect(p.scrubbed).toEqual([{ name: "LATCHKEY_LOG_LEVEL", reason: "latchkey setting" }, { name: "LATCHKEY_SOMETHING", reason: "latchkey setting" }]);
    const k = await prepareEnv(env, opts({ "secrets-dir": [dir({})], "keep-env": ["LATCHKEY_SOMETHING"] }), log);
    expect(k.env.LATCHKEY_SOMETHING).toBe("1");
  });

  it("required and per-secret validation fail without quoting the value", async () => {
    const d = dir({ "db-password": "tiny-pw", empty: "" });
    const o = opts({ "secrets-dir": [d], require: ["DB_PASSWORD", "EMPTY"] });
    const p = await prepareEnv({}, o, log);
    expect(() => validateSecrets(p, o)).toThrow(/required variable EMPTY is empty \(from .*\/empty\)/);
    const o2 = opts({ "secrets-dir": [d], require: ["MISSING"] });
    expect(() => validateSecrets(p, o2)).toThrow(/required variable MISSING is not set by any source/);
    const o3 = opts({ "secrets-dir": [d] });
    o3.rules.set("db-password", { origin: "c.yaml: secrets.db-password", minLength: 12 });
    try {
      validateSecrets(p, o3);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/DB_PASSWORD \(from .*db-password\) is shorter than 12 characters \(c.yaml: secrets.db-password.minLength\)/);
      expect((e as Error).message).not.toContain("tiny-pw");
      expect((e as { exitCode: number }).exitCode).toBe(65);
    }
    o3.rules.set("DB_PASSWORD", { origin: "c", pattern: /^\d+$/u });
    o3.rules.delete("db-password");
    expect(() => validateSecrets(p, o3)).toThrow(/DB_PASSWORD .* does not match \/\^\\d\+\$\//);
  });
});

describe("dotenv values are plain values (finding 5)", () => {
  const target = join(root, "root-only");
  writeFileSync(target, "root-only-value");
  it("file://, NAME_FILE and an inherited NAME_FILE overridden by the dotenv: nothing is read", async () => {
    const d = dir({});
    const envFile = join(d, ".env");
    writeFileSync(envFile, `A=file://${target}\nB_FILE=${target}\nC_FILE=${target}\n`);
    const p = await prepareEnv({ PATH: "/bin", C_FILE: target }, opts({ "secrets-dir": [d], dotenv: [envFile], "file-vars": ["all"] }), log);
    expect(p.env.A).toBe(`file://${target}`);
    expect(p.env.B_FILE).toBe(target);
    expect(p.env.B).toBeUndefined();
    expect(p.env.C).toBeUndefined(); // the dotenv's C_FILE replaced the inherited one, and is plain
    expect(p.usedSchemes.size).toBe(0);
  });
  it("the inherited env still holds references, and --dotenv-references resolves the dotenv's", async () => {
    const d = dir({});
    const envFile = join(d, ".env");
    writeFileSync(envFile, `A=file://${target}\n`);
    const plain = await prepareEnv({ PATH: "/bin", X: `file://${target}` }, opts({ "secrets-dir": [d], dotenv: [envFile] }), log);
    expect([plain.env.A, plain.env.X]).toEqual([`file://${target}`, "root-only-value"]);
    const opted = await prepareEnv({ PATH: "/bin" }, opts({ "secrets-dir": [d], dotenv: [envFile], "dotenv-references": true }), log);
    expect(opted.env.A).toBe("root-only-value");
  });
  it("invalid UTF-8 names the file and the line", async () => {
    const d = dir({});
    const envFile = join(d, ".env");
    writeFileSync(envFile, Buffer.concat([Buffer.from("A=1\n# c\nB=\xc3"), Buffer.from([0xc3, 0x28]), Buffer.from("\n")]));
    await fails(prepareEnv({}, opts({ "secrets-dir": [d], dotenv: [envFile] }), log), new RegExp(`env file ${envFile}: line 3 is not valid UTF-8`), 65);
  });
});
