/**
 * The Vault and AWS examples run as written, against the project's own servers on 127.0.0.1:
 * examples/vault/approle.yaml (AppRole with a response-wrapped secret_id, a CA file, the
 * credential files in /run/vault), examples/vault/kubernetes-auth.yaml (the projected
 * service-account token, a Vault namespace) and examples/aws/latchkey.yaml (credentials from
 * the SDK's default chain, here the ECS container-credentials endpoint, as in
 * ecs-task-definition.json).
 *
 * Only what cannot be the same here is overridden, by flags (which win over the file): the
 * servers' addresses, and the user (the image's `app` user does not exist on this machine).
 * /run/vault is a tmpfs in a private mount namespace; the machine gets at most an empty
 * mount point, removed afterwards.
 */
import { createServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { inMountNamespace, latchkey } from "../../helpers/run.ts";
import { LATCHKEY, ROOT } from "../../helpers/paths.ts";
import { cleanEnv, probe, readProbe, workspace } from "../file-secrets/fixtures.ts";
import { TestVault } from "../../servers/vault/server.ts";
import { makePki } from "../../servers/vault/certs.ts";
import { newKeyPair, signJwt } from "../../servers/vault/jwt.ts";
import { motoEnv, startMoto, type Moto } from "../../servers/aws/moto.ts";

const ws = workspace("examples-providers");
const root = process.getuid?.() === 0;

describe.runIf(root)("examples/vault/approle.yaml", () => {
  const MOUNT = "/run/vault";
  const created = !existsSync(MOUNT);
  let v: TestVault;
  let pki: ReturnType<typeof makePki>;
  beforeAll(async () => {
    if (created) mkdirSync(MOUNT);
    pki = makePki();
    v = await new TestVault({ tls: { cert: pki.pem.cert, key: pki.pem.key } }).start();
    const ns = v.namespace("");
    ns.kvPut("secret", "python-app/db", { password: "example-vault-db-pw" });
    ns.kvPut("secret", "python-app/api", { key: "example-vault-api-key" });
    ns.putPolicy("python-app", [{ path: "secret/data/python-app/*", capabilities: ["read"] }]);
  });
  afterAll(async () => {
    await v?.stop();
    if (created) rmdirSync(MOUNT);
  });

  it("logs in with the wrapped secret_id from /run/vault over TLS and gives the app both secrets", async () => {
    const ns = v.namespace("");
    const { roleId } = ns.addAppRole("python-app", { policies: ["python-app"], tokenTtl: 600 });
    // What the orchestrator would deliver: a wrapping token for a fresh secret_id.
    const wrappingToken = await wrappedSecretId(v.url, v.rootToken, pki.pem.ca);
    const o = ws.path("out", "vault");
    const files = { "ca.pem": readFileSync(pki.caFile, "utf8"), "role-id": roleId, "secret-id": wrappingToken };
    // The contents go in as the setup script's $1, $2...: no shell quoting of them.
    const setup = Object.keys(files).map((f, i) => `printf '%s' "$${i + 1}" > ${MOUNT}/${f}`).join(" && ");
    const r = await inMountNamespace(`mount -t tmpfs tmpfs ${MOUNT} && ${setup}`,
      [LATCHKEY, "--config", join(ROOT, "examples", "vault", "approle.yaml"), "--vault-addr", v.url, "--user", "root", "--", ...probe(o)], { env: cleanEnv() },
      Object.values(files));
    expect(r.code, r.stderr).toBe(0);
    const env = readProbe(o)!;
    expect(env.DB_PASSWORD).toBe("example-vault-db-pw");
    expect(env.API_KEY).toBe("example-vault-api-key");
    expect(Object.values(env).join("\n")).not.toContain(roleId);
    expect(v.count((q) => q.path === "/v1/sys/wrapping/unwrap" && q.status === 200)).toBe(1);
    expect(v.count((q) => q.path === "/v1/auth/approle/login" && q.status === 200)).toBe(1);
    expect(r.stderr).not.toContain("example-vault");
  });
});

describe.runIf(root)("examples/vault/kubernetes-auth.yaml", () => {
  // /vault/tls and /var/run/secrets/vault: tmpfs on /vault and on /run (/var/run links to it)
  // inside the namespace, so the machine's /run is not touched; /vault is an empty mount point.
  const created = !existsSync("/vault");
  let v: TestVault;
  let pki: ReturnType<typeof makePki>;
  beforeAll(async () => {
    if (created) mkdirSync("/vault");
    pki = makePki();
    v = await new TestVault({ tls: { cert: pki.pem.cert, key: pki.pem.key } }).start();
  });
  afterAll(async () => {
    await v?.stop();
    if (created) rmdirSync("/vault");
  });

  it("logs in with the pod's projected service-account token, in the Vault namespace, over TLS", async () => {
    const ns = v.namespace("team-payments");
    ns.kvPut("secret", "python-app/db", { password: "example-k8s-db-pw" });
    ns.kvPut("secret", "python-app/api", { key: "example-k8s-api-key" });
    ns.putPolicy("python-app", [{ path: "secret/data/python-app/*", capabilities: ["read"] }]);
    const keys = newKeyPair();
    ns.addJwtRole("kubernetes", "python-app", { policies: ["python-app"], ttl: 600, maxTtl: 0, boundServiceAccountNames: ["python-app"], boundServiceAccountNamespaces: ["payments"] }, keys.publicKey);
    const jwt = signJwt({ "kubernetes.io/serviceaccount/service-account.name": "python-app", "kubernetes.io/serviceaccount/namespace": "payments", aud: "vault", exp: Date.now() / 1000 + 600 }, keys.privateKey);
    const o = ws.path("out", "k8s");
    const ca = readFileSync(pki.caFile, "utf8");
    const setup = [
      "mount -t tmpfs tmpfs /vault && mount -t tmpfs tmpfs /run",
      "mkdir -p /vault/tls /run/secrets/vault",
      `printf '%s' "$1" > /vault/tls/ca.crt && printf '%s' "$2" > /run/secrets/vault/token`,
    ].join(" && ");
    const r = await inMountNamespace(setup,
      [LATCHKEY, "--config", join(ROOT, "examples", "vault", "kubernetes-auth.yaml"), "--vault-addr", v.url, "--", ...probe(o)], { env: cleanEnv() },
      [ca, jwt]);
    expect(r.code, r.stderr).toBe(0);
    const env = readProbe(o)!;
    expect(env.DB_PASSWORD).toBe("example-k8s-db-pw");
    expect(env.API_KEY).toBe("example-k8s-api-key");
    expect(Object.values(env).join("\n")).not.toContain(jwt);
    expect(v.count((q) => q.path === "/v1/auth/kubernetes/login" && q.status === 200)).toBe(1);
  });
});

describe("examples/aws/latchkey.yaml", () => {
  let moto: Moto;
  let creds: Server;
  let credsUrl = "";
  let credsAsked = 0;
  beforeAll(async () => {
    moto = await startMoto();
    const sm = new SecretsManagerClient({ region: "eu-west-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    await sm.send(new CreateSecretCommand({ Name: "prod/python-app/db", SecretString: JSON.stringify({ password: "example-aws-db-pw", user: "app" }) }));
    await sm.send(new CreateSecretCommand({ Name: "prod/python-app/api", SecretString: JSON.stringify({ key: "example-aws-api-key" }) }));
    // The ECS agent's credentials endpoint, as the task role gives it to the container.
    creds = createServer((_req, res) => {
      credsAsked++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({
        AccessKeyId: "ASIAEXAMPLEECSROLE", SecretAccessKey: "example-ecs-secret", Token: "example-ecs-session",
        Expiration: new Date(Date.now() + 3600_000).toISOString(), RoleArn: "arn:aws:iam::123456789012:role/python-app",
      }));
    });
    await new Promise<void>((r) => creds.listen(0, "127.0.0.1", () => r()));
    credsUrl = `http://127.0.0.1:${(creds.address() as { port: number }).port}/v2/credentials/task`;
  });
  afterAll(async () => {
    await moto?.stop();
    await new Promise((r) => creds?.close(r));
  });

  it("takes credentials from the ECS container endpoint (no key anywhere) and gives the app both secrets", async () => {
    const base = motoEnv(moto);
    const env = cleanEnv({
      // the SDK's chain, with nothing but the container endpoint to find
      AWS_CONTAINER_CREDENTIALS_FULL_URI: credsUrl,
      AWS_EC2_METADATA_DISABLED: base.AWS_EC2_METADATA_DISABLED!,
      AWS_CONFIG_FILE: base.AWS_CONFIG_FILE!,
      AWS_SHARED_CREDENTIALS_FILE: base.AWS_SHARED_CREDENTIALS_FILE!,
    });
    const o = ws.path("out", "aws");
    const r = await latchkey(["--config", join(ROOT, "examples", "aws", "latchkey.yaml"), "--aws-endpoint", moto.url, "--", ...probe(o)], { env });
    expect(r.code, r.stderr).toBe(0);
    const got = readProbe(o)!;
    expect(got.DB_PASSWORD).toBe("example-aws-db-pw");
    expect(got.API_KEY).toBe("example-aws-api-key");
    expect(credsAsked).toBeGreaterThan(0);
    // the credentials latchkey fetched are its own: none of them reaches the app's env
    expect(Object.values(got).join("\n")).not.toMatch(/example-ecs|ASIAEXAMPLE/);
  });
});

/** A response-wrapped secret_id from the TLS test server (fetch cannot take its CA). */
function wrappedSecretId(url: string, token: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/v1/auth/approle/role/python-app/secret-id`, { method: "POST", ca, headers: { "x-vault-token": token, "x-vault-wrap-ttl": "60" } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => {
        try {
          resolve((JSON.parse(body) as { wrap_info: { token: string } }).wrap_info.token);
        } catch {
          reject(new Error(`no wrapping token: ${res.statusCode} ${body}`));
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}
