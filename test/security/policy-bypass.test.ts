/**
 * Finding 3 of issue 12: the reference policy matched the reference as written while the path
 * used was normalised later. Each test writes one bypass form and checks that the value behind
 * it (a canary) never reaches the app, and that latchkey says why on one line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, probe, readProbe, workspace } from "../integration/file-secrets/fixtures.ts";
import { TestVault } from "../servers/vault/server.ts";
import { motoEnv, startMoto, type Moto } from "../servers/aws/moto.ts";

const ws = workspace("policy-bypass");
let n = 0;
const out = () => ws.path("out", `p${++n}`);
const HOME = ws.path("home");
mkdirSync(HOME);

/** Runs latchkey with a policy file; the app records its env. Returns the result and the app's env (null: it did not run). */
async function withPolicy(policy: string, env: Record<string, string>, args: string[] = []) {
  const file = ws.path(`policy${++n}.yaml`);
  writeFileSync(file, policy);
  const o = out();
  const r = await latchkey(["--policy", file, ...args, "--", ...probe(o)], { env: cleanEnv({ HOME, ...env }), timeoutMs: 30_000 });
  return { r, app: readProbe(o) };
}

function expectRefused(res: { r: { code: number | null; stderr: string }; app: Record<string, string> | null }, canary: string, code: number, why: RegExp) {
  expect(res.app, res.r.stderr).toBeNull();
  expect(res.r.stderr).not.toContain(canary);
  expect(res.r.code, res.r.stderr).toBe(code);
  expect(res.r.stderr).toMatch(why);
  expect(res.r.stderr.trim().split("\n")).toHaveLength(1);
}

describe("vault:// references are matched as requested", () => {
  let v: TestVault;
  beforeAll(async () => {
    v = await new TestVault().start();
    const root = v.namespace("");
    root.kvPut("secret", "payments/db", { k: "payments-db-ok-1" });
    root.kvPut("secret", "payments/admin", { k: "CANARY-vault-admin-5c1" });
    root.kvPut("secret", "other", { k: "CANARY-vault-other-9d2" });
  });
  afterAll(async () => {
    await v.stop();
  });
  const POLICY = 'allow:\n  vault: ["secret/data/payments/**"]\ndeny:\n  vault: ["secret/data/payments/admin"]\n';
  const env = (ref: string) => ({ VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken, X: ref });

  it("a path inside the allow rule still works", async () => {
    const { r, app } = await withPolicy(POLICY, env("vault://secret/data/payments/db#k"));
    expect(r.code, r.stderr).toBe(0);
    expect(app!.X).toBe("payments-db-ok-1");
  });
  it("'..' does not pass a deny rule", async () => {
    expectRefused(await withPolicy(POLICY, env("vault://secret/data/payments/x/../admin#k")), "CANARY", 78, /'\.\.'/);
  });
  it("'..' does not climb out of a '**' allow rule", async () => {
    expectRefused(await withPolicy(POLICY, env("vault://secret/data/payments/../other#k")), "CANARY", 78, /'\.\.'/);
  });
  it("'./' does not pass a deny rule", async () => {
    expectRefused(await withPolicy(POLICY, env("vault://secret/data/payments/./admin#k")), "CANARY", 78, /'\.'/);
  });
  it("'%2e%2e' does not pass a deny rule", async () => {
    expectRefused(await withPolicy(POLICY, env("vault://secret/data/payments/x/%2e%2e/admin#k")), "CANARY", 78, /'\.\.'/);
  });
  it("'//' does not pass a deny rule", async () => {
    expectRefused(await withPolicy(POLICY, env("vault://secret/data/payments//admin#k")), "CANARY", 78, /empty segment/);
  });
});

describe("file:// references are matched on the real path", () => {
  const d = ws.path("files");
  const CANARY = "CANARY-file-target-3e7";
  beforeAll(() => {
    mkdirSync(ws.path("files", "allowed", "sub"), { recursive: true });
    writeFileSync(ws.path("files", "allowed", "ok"), "file-ok-value-1");
    writeFileSync(ws.path("files", "target"), CANARY);
    symlinkSync(ws.path("files", "target"), ws.path("files", "allowed", "link"));
    symlinkSync(ws.path("files"), ws.path("files", "allowed", "dirlink"));
  });
  const policy = () => `allow:\n  file: ["${d}/allowed/**"]\ndeny:\n  file: ["${d}/target"]\n`;
  /** Everything under the directory but the target: for the forms that dodge a deny rule. */
  const denyOnly = () => `allow:\n  file: ["${d}/**"]\ndeny:\n  file: ["${d}/target"]\n`;

  it("a file inside the allow rule still works", async () => {
    const { r, app } = await withPolicy(policy(), { X: `file://${d}/allowed/ok` });
    expect(r.code, r.stderr).toBe(0);
    expect(app!.X).toBe("file-ok-value-1");
  });
  it("'..' does not climb out of a '**' allow rule", async () => {
    expectRefused(await withPolicy(policy(), { X: `file://${d}/allowed/../target` }), CANARY, 78, /'\.\.'/);
  });
  it("'/./' does not pass a deny rule", async () => {
    expectRefused(await withPolicy(denyOnly(), { X: `file://${d}/./target` }), CANARY, 78, /'\.'/);
  });
  it("'//' does not pass a deny rule", async () => {
    expectRefused(await withPolicy(denyOnly(), { X: `file://${d}//target` }), CANARY, 78, /empty segment/);
  });
  it("'%2e%2e' does not climb out of a '**' allow rule", async () => {
    expectRefused(await withPolicy(policy(), { X: `file://${d}/allowed/%2e%2e/target` }), CANARY, 78, /'\.\.'/);
  });
  it("a symlink inside an allowed directory is matched where it leads", async () => {
    expectRefused(await withPolicy(policy(), { X: `file://${d}/allowed/link` }), CANARY, 77, /refused by policy/);
  });
  it("a symlinked directory inside an allowed directory is matched where it leads", async () => {
    expectRefused(await withPolicy(policy(), { X: `file://${d}/allowed/dirlink/target` }), CANARY, 77, /refused by policy/);
  });
  it("NAME_FILE paths pass the same policy as file:// references", async () => {
    expectRefused(await withPolicy(policy(), { X_FILE: `${d}/target` }, ["--file-vars", "all"]), CANARY, 77, /X_FILE.*refused by policy/);
    expectRefused(await withPolicy(policy(), { X_FILE: `${d}/allowed/link` }, ["--file-vars", "all"]), CANARY, 77, /refused by policy/);
    const { r, app } = await withPolicy(policy(), { X_FILE: `${d}/allowed/ok` }, ["--file-vars", "all"]);
    expect(r.code, r.stderr).toBe(0);
    expect(app!.X).toBe("file-ok-value-1");
  });
});

describe("aws-sm:// names and ARNs are one secret", () => {
  let moto: Moto;
  let arn = "";
  const CANARY = "CANARY-aws-admin-8f3";
  beforeAll(async () => {
    moto = await startMoto();
    const sm = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    arn = (await sm.send(new CreateSecretCommand({ Name: "prod/admin", SecretString: CANARY }))).ARN!;
    await sm.send(new CreateSecretCommand({ Name: "prod/db", SecretString: "aws-db-ok-2" }));
    sm.destroy();
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
  });
  const POLICY = 'allow:\n  aws-sm: ["**"]\ndeny:\n  aws-sm: ["prod/admin"]\n';

  it("the name is refused, another name passes", async () => {
    expectRefused(await withPolicy(POLICY, motoEnv(moto, { X: "aws-sm://prod/admin" })), CANARY, 77, /refused by policy/);
    const { r, app } = await withPolicy(POLICY, motoEnv(moto, { X: "aws-sm://prod/db" }));
    expect(r.code, r.stderr).toBe(0);
    expect(app!.X).toBe("aws-db-ok-2");
  });
  it("a full ARN of a denied name is refused", async () => {
    expect(arn).toMatch(/:secret:prod\/admin-[A-Za-z0-9]{6}$/);
    expectRefused(await withPolicy(POLICY, motoEnv(moto, { X: `aws-sm://${arn}` })), CANARY, 77, /refused by policy/);
  });
  it("a partial ARN of a denied name is refused", async () => {
    const partial = arn.replace(/-[A-Za-z0-9]{6}$/, "");
    expectRefused(await withPolicy(POLICY, motoEnv(moto, { X: `aws-sm://${partial}` })), CANARY, 77, /refused by policy/);
  });
});
