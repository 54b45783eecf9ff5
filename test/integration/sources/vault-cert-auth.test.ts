/**
 * `--vault-auth cert` in the built binary against a real OpenBao with a TLS listener: the
 * login at auth/<mount>/login is authenticated by the client certificate of the TLS handshake
 * (--vault-client-cert/--vault-client-key), optionally naming a certificate role (--vault-role).
 * The CA, server and client certificates are made here with openssl; a second client
 * certificate from an unrelated CA is the wrong one. OpenBao runs in dev mode (its own plain
 * listener, used only for the test's admin calls) with a TLS listener and a file audit device
 * added from a config file; the audit log shows every request latchkey made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latchkey, start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { sleep, waitFor } from "../../helpers/processes.ts";
import { cleanEnv, probe, readProbe, workspace } from "../file-secrets/fixtures.ts";
import { makePki, type Pki } from "../../servers/vault/certs.ts";
import { baoBinary } from "../../servers/openbao.ts";
import { freePort } from "../../servers/ports.ts";

const ws = workspace("vault-cert");
const API_KEY = "cert-auth-api-key-5c1d";
let pki: Pki;
let bao: ChildProcess | null = null;
let admin = "";
let tlsUrl = "";
const rootToken = `root-${Math.random().toString(36).slice(2)}`;
const auditLog = ws.path("audit.log");
let n = 0;
const out = () => ws.path("out", `p${++n}`);

async function api(method: string, path: string, body?: unknown): Promise<Record<string, any> | null> {
  const r = await fetch(`${admin}/v1/${path}`, {
    method, headers: { "x-vault-token": rootToken, "content-type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, any>) : null;
}

/** Requests on the TLS listener (the admin calls go to the dev listener), oldest first. */
function audited(): { path: string; error?: string }[] {
  if (!existsSync(auditLog)) return [];
  const outp: { path: string; error?: string }[] = [];
  for (const line of readFileSync(auditLog, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { type: string; error?: string; request?: { path?: string; headers?: Record<string, unknown> } };
    if (e.type !== "response" || e.request?.headers?.["x-admin"]) continue;
    outp.push({ path: e.request?.path ?? "", ...(e.error ? { error: e.error } : {}) });
  }
  return outp;
}

function mark(): number {
  return audited().length;
}

function certArgs(cert = pki.clientCertFile, key = pki.clientKeyFile): string[] {
  return ["--vault-auth", "cert", "--vault-client-cert", cert, "--vault-client-key", key, "--vault-ca-cert", pki.caFile];
}

const env = (extra: Record<string, string> = {}) => cleanEnv({ VAULT_ADDR: tlsUrl, API_KEY: "vault://secret/data/app#api_key", ...extra });

/** Whether the dev listener answers /sys/health within 30 s (false as soon as `proc` exits). */
async function healthy(proc: ChildProcess): Promise<boolean> {
  const up = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${admin}/v1/sys/health`)).status === 200) return true;
    } catch {
      // not listening yet
    }
    if (Date.now() > up || proc.exitCode !== null) return false;
    await sleep(100);
  }
}

beforeAll(async () => {
  const bin = baoBinary();
  if (!bin) throw new Error("OpenBao's `bao` is not installed: run scripts/setup-system test");
  pki = makePki();
  // The wrong client certificate: a good-looking client cert from an unrelated CA.
  writeFileSync(join(pki.dir, "wrong.ext"), "extendedKeyUsage=clientAuth\n");
  const ssl = (args: string[]) => execFileSync("openssl", args, { cwd: pki.dir, stdio: ["ignore", "ignore", "pipe"] });
  ssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "wrong.key", "-out", "wrong.csr", "-subj", "/CN=client"]);
  ssl(["x509", "-req", "-in", "wrong.csr", "-CA", "other-ca.pem", "-CAkey", "other-ca.key", "-CAcreateserial", "-out", "wrong.pem", "-days", "2", "-extfile", "wrong.ext"]);
  // Three tries with new ports, as the shared servers do: a port can be taken between
  // freePort() and OpenBao's bind by another test file's process.
  let said = "";
  for (let attempt = 0; ; attempt++) {
    const [devPort, tlsPort] = [await freePort(), await freePort()];
    admin = `http://127.0.0.1:${devPort}`;
    tlsUrl = `https://127.0.0.1:${tlsPort}`;
    mkdirSync(ws.path("home"), { recursive: true });
    writeFileSync(ws.path("tls.hcl"), [
      `listener "tcp" {\n  address = "127.0.0.1:${tlsPort}"\n  tls_cert_file = "${pki.serverCert}"\n  tls_key_file = "${pki.serverKey}"\n}`,
      `audit "file" "log" {\n  options {\n    file_path = "${auditLog}"\n  }\n}`,
    ].join("\n"));
    said = "";
    const proc = spawn(bin, ["server", "-dev", `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${devPort}`, `-config=${ws.path("tls.hcl")}`], {
      stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin", HOME: ws.path("home"), BAO_LOG_LEVEL: "warn" },
    });
    bao = proc;
    proc.stdout!.on("data", (d: Buffer) => (said = (said + d.toString()).slice(-4000)));
    proc.stderr!.on("data", (d: Buffer) => (said = (said + d.toString()).slice(-4000)));
    if (await healthy(proc)) break;
    if (proc.exitCode === null) {
      proc.kill("SIGKILL");
      await new Promise((r) => proc.once("exit", r));
    }
    rmSync(auditLog, { force: true });
    if (attempt === 2) throw new Error(`OpenBao did not start: ${said}`);
  }
  // The tests' own calls are marked so that the audit counts see only latchkey's.
  await api("PUT", "sys/config/auditing/request-headers/x-admin", { hmac: false });
  await api("POST", "secret/data/app", { data: { api_key: API_KEY } });
  await api("PUT", "sys/policies/acl/app-read", { policy: 'path "secret/data/app" { capabilities = ["read"] }\npath "secret/metadata/app" { capabilities = ["read"] }' });
  // Two mounts: `cert` (the default mount) with one role, `cert-short` whose tokens live at most 6 s.
  await api("POST", "sys/auth/cert", { type: "cert" });
  await api("POST", "auth/cert/certs/app", { certificate: pki.pem.ca, token_policies: ["app-read"], token_ttl: "10m" });
  await api("POST", "sys/auth/cert-short", { type: "cert" });
  await api("POST", "auth/cert-short/certs/short", { certificate: pki.pem.ca, token_policies: ["app-read"], token_ttl: "4s", token_max_ttl: "6s" });
}, 120_000);

afterAll(async () => {
  if (bao && bao.exitCode === null) {
    const gone = new Promise((r) => bao!.once("exit", r));
    bao.kill("SIGTERM");
    await Promise.race([gone, sleep(5000)]);
    if (bao.exitCode === null) bao.kill("SIGKILL");
  }
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

describe("--vault-auth cert (TLS certificate auth) against OpenBao", () => {
  it("logs in with the client certificate at auth/cert/login and loads the secret; the login token is revoked when the app exits", async () => {
    const o = out();
    const from = mark();
    const r = await latchkey([...certArgs(), "--", ...probe(o)], { env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readProbe(o)!.API_KEY).toBe(API_KEY);
    const seen = audited().slice(from);
    expect(seen.filter((e) => e.path === "auth/cert/login")).toEqual([{ path: "auth/cert/login" }]);
    expect(seen.filter((e) => e.path === "secret/data/app")).toEqual([{ path: "secret/data/app" }]);
    expect(seen.some((e) => e.path === "auth/token/revoke-self" && !e.error)).toBe(true);
  });

  it("--vault-role names the certificate role (sent as `name`), --vault-auth-mount the mount; an unknown role is refused", async () => {
    const o = out();
    const ok = await latchkey([...certArgs(), "--vault-role", "app", "--", ...probe(o)], { env: env() });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(readProbe(o)!.API_KEY).toBe(API_KEY);

    const o2 = out();
    const bad = await latchkey([...certArgs(), "--vault-role", "nope", "--", ...probe(o2)], { env: env() });
    expect(bad.code).toBe(77);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/TLS certificate login at auth\/cert\/login on https:\/\/127\.0\.0\.1:\d+ failed: 400 /);
    expect(existsSync(o2)).toBe(false);

    const o3 = out();
    const from = mark();
    const other = await latchkey([...certArgs(), "--vault-auth-mount", "cert-short", "--", ...probe(o3)], { env: env() });
    expect(other.stderr).toBe("");
    expect(other.code).toBe(0);
    expect(audited().slice(from).filter((e) => e.path.endsWith("/login")).map((e) => e.path)).toEqual(["auth/cert-short/login"]);
  });

  it("a client certificate from another CA fails closed: one line, exit 77, the app never starts", async () => {
    const o = out();
    const from = mark();
    const r = await latchkey([...certArgs(join(pki.dir, "wrong.pem"), join(pki.dir, "wrong.key")), "--", ...probe(o)], { env: env() });
    expect(r.code).toBe(77);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/TLS certificate login at auth\/cert\/login on https:\/\/127\.0\.0\.1:\d+ failed: 400 invalid certificate or no client certificate supplied/);
    expect(existsSync(o)).toBe(false);
    // One login attempt, nothing read: a refused certificate is not retried.
    expect(audited().slice(from).map((e) => e.path)).toEqual(["auth/cert/login"]);
  });

  it("cert auth without a client certificate, or over http://, is a configuration error (78) before any request", async () => {
    const from = mark();
    const noCert = await latchkey(["--vault-auth", "cert", "--vault-ca-cert", pki.caFile, "--", "/bin/true"], { env: env() });
    expect(noCert.code).toBe(78);
    expect(noCert.stderr.trim().split("\n")).toHaveLength(1);
    expect(noCert.stderr).toMatch(/--vault-auth: TLS certificate auth needs a client certificate and key \(--vault-client-cert and --vault-client-key/);

    const http = await latchkey([...certArgs(), "--", "/bin/true"], { env: env({ VAULT_ADDR: admin }) });
    expect(http.code).toBe(78);
    expect(http.stderr.trim().split("\n")).toHaveLength(1);
    expect(http.stderr).toMatch(/--vault-auth: TLS certificate auth needs an https:\/\/ Vault address, not 'http:\/\/127\.0\.0\.1:\d+'/);
    expect(audited().length).toBe(from);
  });

  it("re-login: tokens capped at 6 s are renewed, then replaced by new certificate logins while the app keeps running on its secret", async () => {
    const pids = ws.path("pids");
    const from = mark();
    const { proc, done } = start(LATCHKEY, [
      ...certArgs(), "--vault-auth-mount", "cert-short", "--vault-role", "short", "--poll-interval", "1s", "--log-level", "warn",
      "--", "/bin/sh", "-c", 'echo $$ >> "$0"; exec sleep 60', pids,
    ], { env: env() });
    try {
      await waitFor(() => existsSync(pids), "the app to start");
      await sleep(14_000);
      const seen = audited().slice(from);
      const logins = seen.filter((e) => e.path === "auth/cert-short/login");
      // 14 s of tokens that live 4 s, at most 6: renewed once at ~2.7 s (renewals present the
      // certificate again), replaced by a new login at ~4.9 s when the renewal shows the cap.
      expect(logins.length).toBeGreaterThanOrEqual(3);
      expect(seen.filter((e) => e.path === "auth/token/renew-self" && !e.error).length).toBeGreaterThanOrEqual(2);
      expect(logins.filter((e) => e.error)).toEqual([]);
      // Every poll on the way was answered: the token was never let expire under it.
      const polls = seen.filter((e) => e.path.startsWith("secret/"));
      expect(polls.length).toBeGreaterThanOrEqual(5);
      expect(polls.filter((e) => e.error)).toEqual([]);
      // Same app all along: a new token is not a new secret.
      expect(readFileSync(pids, "utf8").trim().split("\n")).toHaveLength(1);
    } finally {
      proc.kill("SIGTERM");
    }
    const r = await done;
    expect(r.stderr).toBe("");
  }, 40_000);
});
