/**
 * Finding 8 of issue 12: a FIFO (or a character device such as /proc/kmsg) where latchkey
 * expects a file hung startup forever: open(2) of a FIFO blocks until a writer comes, on the
 * main thread, so not even SIGTERM was acted on. Each reader gets a FIFO: latchkey must fail
 * quickly, on one line naming the file, and the app must not start.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { inMountNamespace, latchkey, start, type RunResult } from "../helpers/run.ts";
import { hangingServer } from "../helpers/hanging-server.ts";
import { LATCHKEY } from "../helpers/paths.ts";
import { cleanEnv, workspace } from "../integration/file-secrets/fixtures.ts";

const ws = workspace("fifo");
const HOME = ws.path("home");
mkdirSync(HOME);
let n = 0;
function fifo(): string {
  const p = ws.path(`fifo${++n}`);
  execFileSync("mkfifo", [p]);
  return p;
}
const vault = hangingServer();
const env = (extra: Record<string, string> = {}) => cleanEnv({ HOME, ...extra });
const APP = ["--", "sh", "-c", "echo APP-STARTED"];

/** Quick, one line naming the file, app not started. A hang is killed at 15 s and fails. */
function expectQuickFailure(r: RunResult, path: string) {
  expect(r.signal, `killed after ${Math.round(r.ms)} ms: latchkey hung on ${path}`).toBeNull();
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.ms).toBeLessThan(5_000);
  expect(r.stdout).not.toContain("APP-STARTED");
  expect(r.stderr).toContain(path);
  expect(r.stderr).toMatch(/FIFO|character device|not a regular file/);
  expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
}
const run = (args: string[], extra: Record<string, string> = {}) => latchkey(args, { env: env(extra), timeoutMs: 15_000 });

describe("a FIFO where latchkey reads a file", () => {
  it("file:// reference", async () => {
    const p = fifo();
    expectQuickFailure(await run(APP, { X: `file://${p}` }), p);
  });
  it("NAME_FILE", async () => {
    const p = fifo();
    expectQuickFailure(await run(["--file-vars", "all", ...APP], { X_FILE: p }), p);
  });
  it("--dotenv", async () => {
    const p = fifo();
    expectQuickFailure(await run(["--dotenv", p, ...APP]), p);
  });
  it("--config", async () => {
    const p = fifo();
    expectQuickFailure(await run(["--config", p, ...APP]), p);
  });
  it("--policy", async () => {
    const p = fifo();
    writeFileSync(ws.path("plain"), "plain-value");
    // A reference, so that the old code read the policy at all.
    expectQuickFailure(await run(["--policy", p, ...APP], { X: `file://${ws.path("plain")}` }), p);
  });
  it("--vault-token-file", async () => {
    const p = fifo();
    expectQuickFailure(await run(["--vault-token-file", p, ...APP], { VAULT_ADDR: vault.url(), X: "vault://secret/data/app#k" }), p);
  });
  it("--vault-jwt-file (JWT login, read at each login)", async () => {
    const p = fifo();
    expectQuickFailure(await run(["--vault-auth", "jwt", "--vault-role", "app", "--vault-jwt-file", p, ...APP], { VAULT_ADDR: vault.url(), X: "vault://secret/data/app#k" }), p);
  });
  it("--vault-ca-cert", async () => {
    const p = fifo();
    expectQuickFailure(await run(["--vault-ca-cert", p, ...APP], { VAULT_ADDR: vault.url(), VAULT_TOKEN: "t0ken-fifo", X: "vault://secret/data/app#k" }), p);
  });
  it("--wait https://...#ca=FIFO (the health probe's CA file)", async () => {
    const p = fifo();
    const r = await run(["--wait", `https://127.0.0.1:9/#ca=${p}`, "--wait-timeout", "3s", ...APP]);
    expect(r.signal, "latchkey hung on the CA FIFO").toBeNull();
    expect(r.ms).toBeLessThan(8_000);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("APP-STARTED");
  });
  it.runIf(existsSync("/proc/kmsg"))("/proc/kmsg (a character device whose read blocks) as --config, --policy and file://", async () => {
    for (const args of [["--config", "/proc/kmsg"], ["--policy", "/proc/kmsg"]]) expectQuickFailure(await run([...args, ...APP]), "/proc/kmsg");
    const r = await run(APP, { X: "file:///proc/kmsg" });
    expectQuickFailure(r, "/proc/kmsg");
  });
});

const root = process.getuid?.() === 0;
describe.runIf(root)("a FIFO in the image's files (private mount namespace)", () => {
  const MOUNT = "/etc/latchkey";
  const created = root && !existsSync(MOUNT);
  if (created) mkdirSync(MOUNT);
  afterAll(() => {
    if (created) rmdirSync(MOUNT);
  });
  it("/etc/passwd with --user", async () => {
    const p = fifo();
    const r = await inMountNamespace(`mount --bind "$1" /etc/passwd`, [LATCHKEY, "--user", "nobody", ...APP], { env: env(), timeoutMs: 15_000 }, [p]);
    expectQuickFailure(r, "/etc/passwd");
  });
  it("the platform policy /etc/latchkey/policy.yaml", async () => {
    writeFileSync(ws.path("plain"), "plain-value");
    const r = await inMountNamespace(`mount -t tmpfs tmpfs ${MOUNT} && mkfifo ${MOUNT}/policy.yaml`, [LATCHKEY, ...APP], { env: env({ X: `file://${ws.path("plain")}` }), timeoutMs: 15_000 });
    expectQuickFailure(r, "/etc/latchkey/policy.yaml");
  });
});
if (!root) console.log("fifo.test.ts: the /etc/passwd and platform-policy FIFO cases need root (mount namespaces); skipped");

describe("SIGTERM during a slow startup", () => {
  async function termAfter(args: string[], extra: Record<string, string>, ms: number): Promise<RunResult> {
    const p = start(LATCHKEY, args, { env: env(extra), timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, ms));
    p.proc.kill("SIGTERM");
    const t0 = performance.now();
    const r = await p.done;
    return { ...r, ms: performance.now() - t0 };
  }
  it("a Vault that never answers: SIGTERM ends latchkey within 2 s (143), the app never starts", async () => {
    const r = await termAfter(["--fetch-timeout", "60s", ...APP], { VAULT_ADDR: vault.url(), VAULT_TOKEN: "t0ken-term", X: "vault://secret/data/app#k" }, 1_000);
    expect(r.signal, "SIGTERM was not acted on").toBeNull();
    expect(r.code, r.stderr).toBe(143);
    expect(r.ms).toBeLessThan(2_000);
    expect(r.stdout).not.toContain("APP-STARTED");
  });
  it("a FIFO as --config: latchkey is already gone or ends at SIGTERM, never hangs", async () => {
    const r = await termAfter(["--config", fifo(), ...APP], {}, 1_000);
    expect(r.signal, "SIGTERM was not acted on").toBeNull();
    expect(r.ms).toBeLessThan(2_000);
    expect(r.stdout).not.toContain("APP-STARTED");
  });
});

describe("--fetch-timeout bounds every secret manager step it names (README: AWS, Vault, retries included)", () => {
  it("a Vault AppRole login that never answers", async () => {
    const r = await run(["--fetch-timeout", "1500ms", ...APP], { VAULT_ADDR: vault.url(), VAULT_ROLE_ID: "role-fifo", VAULT_SECRET_ID: "sid-fifo", X: "vault://secret/data/app#k" });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(75);
    expect(r.ms).toBeLessThan(6_000);
  });
  it("an AWS endpoint that never answers", async () => {
    const r = await run(["--fetch-timeout", "1500ms", ...APP], {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: vault.url(), AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", X: "aws-sm://prod/db",
    });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(75);
    expect(r.ms).toBeLessThan(6_000);
  });
});
