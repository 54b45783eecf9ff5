/**
 * The built binary with aws-sm:// references against moto's server on 127.0.0.1 (started and
 * stopped by this file): many secrets, version stages, the `aws:` config section, scrubbing
 * of AWS credentials, partial failure, missing region and credentials, malformed references.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { latchkey } from "../../helpers/run.ts";
import { cleanEnv, probe, readProbe, workspace } from "../file-secrets/fixtures.ts";
import { motoEnv, startMoto, type Moto } from "../../servers/aws/moto.ts";

const ws = workspace("aws");
let moto: Moto;
let n = 0;
const out = () => ws.path("out", `p${++n}`);

beforeAll(async () => {
  moto = await startMoto();
  const sm = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  for (let i = 0; i < 25; i++) await sm.send(new CreateSecretCommand({ Name: `svc/s${i}`, SecretString: JSON.stringify({ password: `aws-pass-${i}-q7`, user: `user${i}` }) }));
  await sm.send(new CreateSecretCommand({ Name: "svc/rot", SecretString: "aws-old-rot-value" }));
  await sm.send(new PutSecretValueCommand({ SecretId: "svc/rot", SecretString: "aws-new-rot-value" }));
  await sm.send(new CreateSecretCommand({ Name: "svc/bin", SecretBinary: Buffer.from("aws-binary-ok") }));
  sm.destroy();
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});

const env = (extra: Record<string, string> = {}) => cleanEnv({ ...motoEnv(moto), ...extra });

describe("aws-sm:// in the built binary", () => {
  it("25 secrets by #key, a previous stage, a binary secret; AWS keys are not passed to the app", async () => {
    const refs: Record<string, string> = {};
    for (let i = 0; i < 25; i++) refs[`P${i}`] = `aws-sm://svc/s${i}#password`;
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: env({ ...refs, ROT: "aws-sm://svc/rot", OLD: "aws-sm://svc/rot?version-stage=AWSPREVIOUS", BIN: "aws-sm://svc/bin" }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const got = readProbe(o)!;
    for (let i = 0; i < 25; i++) expect(got[`P${i}`]).toBe(`aws-pass-${i}-q7`);
    expect(got.ROT).toBe("aws-new-rot-value");
    expect(got.OLD).toBe("aws-old-rot-value");
    expect(got.BIN).toBe("aws-binary-ok");
    expect(got.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(got.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(got.AWS_REGION).toBe("us-east-1");
  });

  it("config file: the aws: section (region, endpoint) and sources:", async () => {
    writeFileSync(ws.path("cfg.yaml"), `aws:\n  region: us-east-1\n  endpoint: ${moto.url}\nsources:\n  DB_USER: aws-sm://svc/s3#user\n`);
    const { AWS_REGION: _a, AWS_ENDPOINT_URL_SECRETS_MANAGER: _b, ...rest } = motoEnv(moto);
    const o = out();
    const r = await latchkey(["--config", ws.path("cfg.yaml"), "--", ...probe(o)], { env: cleanEnv(rest) });
    expect(r.stderr).toBe("");
    expect(readProbe(o)!.DB_USER).toBe("user3");
  });

  it("partial failure (19 of 20 exist): the app never starts; the missing secret is named, no value printed", async () => {
    const refs: Record<string, string> = {};
    for (let i = 0; i < 19; i++) refs[`P${i}`] = `aws-sm://svc/s${i}#password`;
    refs.P19 = "aws-sm://svc/nope#password";
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: env(refs) });
    expect(r.code).toBe(66);
    expect(r.stderr).toContain("aws-sm://svc/nope#password");
    expect(r.stderr).not.toMatch(/aws-pass-\d+-q7/);
    expect(existsSync(o)).toBe(false);
  });

  it("missing region: exit 78 naming the reference and how to set it", async () => {
    const { AWS_REGION: _r, ...noRegion } = motoEnv(moto);
    const r = await latchkey(["--", "true"], { env: cleanEnv({ ...noRegion, HOME: ws.path("nohome"), X: "aws-sm://svc/s1" }) });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("aws-sm://svc/s1");
    expect(r.stderr).toContain("--aws-region");
  });

  it("a custom endpoint with FIPS on (here from the profile's use_fips_endpoint): exit 78 naming both, nothing fetched", async () => {
    writeFileSync(ws.path("fips-config"), "[default]\nuse_fips_endpoint = true\n");
    const o = out();
    const r = await latchkey(["--", ...probe(o)], { env: env({ AWS_CONFIG_FILE: ws.path("fips-config"), X: "aws-sm://svc/s1#password" }) });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("aws-sm://svc/s1#password");
    expect(r.stderr).toContain("FIPS and custom endpoint are not supported");
    expect(r.stderr).not.toContain("aws-pass-1-q7");
    expect(existsSync(o)).toBe(false);
  });

  it("no credentials anywhere: exit 78 naming the reference", async () => {
    const r = await latchkey(["--", "true"], { env: cleanEnv({
      HOME: ws.path("nohome"), AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.url, AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: ws.path("none"), AWS_SHARED_CREDENTIALS_FILE: ws.path("none"), X: "aws-sm://svc/s1",
    }), timeoutMs: 60_000 });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("aws-sm://svc/s1");
    expect(r.stderr).toContain("no AWS credentials");
  });

  it("bad options (exit 64 from a flag) and malformed references (exit 78) before any request", async () => {
    const r = await latchkey(["--aws-region", "mars", "--", "true"], { env: env({ X: "aws-sm://svc/s1" }) });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--aws-region");
    const r2 = await latchkey(["--", "true"], { env: env({ X: "aws-sm://svc/s1?versionstage=AWSPREVIOUS" }) });
    expect(r2.code).toBe(78);
    expect(r2.stderr).toContain("unknown parameter 'versionstage'");
  });

  it("config file policy: section: a reference outside it fails closed naming the variable and the rule", async () => {
    writeFileSync(ws.path("pol.yaml"), "policy:\n  allow:\n    aws-sm: ['svc/s1*']\n");
    const ok = await latchkey(["--config", ws.path("pol.yaml"), "--", "true"], { env: env({ A: "aws-sm://svc/s12#user" }) });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const r = await latchkey(["--config", ws.path("pol.yaml"), "--", "true"], { env: env({ B: "aws-sm://svc/s2#user" }) });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("B: aws-sm://svc/s2#user");
    expect(r.stderr).toContain("'svc/s1*'");
    const bad = await latchkey(["--policy", ws.path("missing-policy.yaml"), "--", "true"], { env: env({ B: "aws-sm://svc/s2#user" }) });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("missing-policy.yaml");
  });
  // The transport (src/sources/aws-sm/transport.ts) loads node:tls on the first https: request
  // only: real endpoints are https, moto here is not.
  it("an https:// endpoint: the signed request goes over TLS; a certificate nobody trusts is refused", async () => {
    const key = ws.path("tls-key.pem");
    const cert = ws.path("tls-cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
      "-subj", "/CN=latchkey-test", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const seen: string[] = [];
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      req.resume();
      seen.push(`${String(req.headers["x-amz-target"])} ${String(req.headers.authorization).split(" ")[0]}`);
      res.setHeader("content-type", "application/x-amz-json-1.1");
      res.end(JSON.stringify({ SecretValues: [{ Name: "svc/tls", SecretString: JSON.stringify({ password: "aws-over-tls-q7" }) }], Errors: [] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const o = out();
      const r = await latchkey(["--", ...probe(o)], { env: env({ AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, NODE_EXTRA_CA_CERTS: cert, P: "aws-sm://svc/tls#password" }) });
      expect(r.code, r.stderr).toBe(0);
      expect(readProbe(o)!.P).toBe("aws-over-tls-q7");
      expect(seen).toEqual(["secretsmanager.BatchGetSecretValue AWS4-HMAC-SHA256"]);
      const refused = await latchkey(["--fetch-timeout", "5s", "--", "true"], { env: env({ AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, P: "aws-sm://svc/tls#password" }) });
      expect(refused.code).toBe(75);
      expect(refused.stderr).toMatch(/aws-sm:\/\/svc\/tls#password: .*self-signed certificate/);
      expect(seen).toHaveLength(1); // no request reached the server without a verified certificate
    } finally {
      server.close();
    }
  });

  // IPv6 by its IPv4-mapped form: the connection is to 127.0.0.1, the URL and Host header IPv6's.
  it("an IPv6 literal endpoint: the request reaches it with a well-formed, signed Host header", async () => {
    const hosts: string[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      hosts.push(`${String(req.headers.host)} ${/SignedHeaders=[^,]*host/.test(String(req.headers.authorization))}`);
      res.setHeader("content-type", "application/x-amz-json-1.1");
      res.end(JSON.stringify({ SecretValues: [{ Name: "svc/v6", SecretString: JSON.stringify({ password: "aws-over-ipv6-q7" }) }], Errors: [] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const o = out();
      const r = await latchkey(["--", ...probe(o)], { env: env({ AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://[::ffff:127.0.0.1]:${port}`, P: "aws-sm://svc/v6#password" }) });
      expect(r.code, r.stderr).toBe(0);
      expect(readProbe(o)!.P).toBe("aws-over-ipv6-q7");
      expect(hosts).toEqual([`[::ffff:7f00:1]:${port} true`]); // the URL's own spelling of the address
    } finally {
      server.close();
    }
  });

  describe("credentials from the SDK's chain (no key in the environment)", () => {
    // Only the chain's other links: no AWS_ACCESS_KEY_ID, no instance metadata.
    const chainEnv = (extra: Record<string, string>) => {
      const e = env(extra);
      delete e.AWS_ACCESS_KEY_ID;
      delete e.AWS_SECRET_ACCESS_KEY;
      return e;
    };

    it("a shared credentials file and --aws-profile (or AWS_PROFILE)", async () => {
      const file = ws.path("aws-credentials");
      // No [default]: without the profile chosen there are no credentials at all (moto takes any key).
      writeFileSync(file, "[latchkey-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
      const ways: Array<{ flags: string[]; extra: Record<string, string> }> = [
        { flags: ["--aws-profile", "latchkey-test"], extra: {} },
        { flags: [], extra: { AWS_PROFILE: "latchkey-test" } },
      ];
      for (const how of ways) {
        const o = out();
        const r = await latchkey([...how.flags, "--", ...probe(o)], { env: chainEnv({ AWS_SHARED_CREDENTIALS_FILE: file, P: "aws-sm://svc/s1#password", ...how.extra }) });
        expect(r.code, r.stderr).toBe(0);
        expect(readProbe(o)!.P).toBe("aws-pass-1-q7");
      }
      const none = await latchkey(["--", "true"], { env: chainEnv({ AWS_SHARED_CREDENTIALS_FILE: file, P: "aws-sm://svc/s1#password" }) });
      expect(none.code).toBe(78);
    });

    it("web identity (EKS IRSA): a role and a token file, exchanged at STS (moto's)", async () => {
      const token = ws.path("web-identity-token");
      writeFileSync(token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDphcHAifQ.c2lnbmF0dXJl");
      const o = out();
      const r = await latchkey(["--", ...probe(o)], { env: chainEnv({
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/latchkey-test", AWS_WEB_IDENTITY_TOKEN_FILE: token,
        AWS_ENDPOINT_URL_STS: moto.url, P: "aws-sm://svc/s2#password",
      }) });
      expect(r.code, r.stderr).toBe(0);
      expect(readProbe(o)!.P).toBe("aws-pass-2-q7");
    });

    // The SDK asset is bundled with only what latchkey uses (build/executable.ts): these two
    // prove the chain's last steps are still in it, each answered by a server on 127.0.0.1.
    const creds = () => ({ AccessKeyId: "testing", SecretAccessKey: "testing", Token: "testing-session", Expiration: new Date(Date.now() + 3600_000).toISOString() });
    async function credentialServer(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: string[]; close(): void }> {
      const seen: string[] = [];
      const server = createServer((req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers["x-aws-ec2-metadata-token"] ?? ""}`.trim());
        answer(req, res);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
    }

    it("ECS container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI on 127.0.0.1)", async () => {
      const s = await credentialServer((req, res) => {
        if (req.url === "/creds" && req.headers.authorization === "ecs-test-token") res.end(JSON.stringify(creds()));
        else res.writeHead(403).end();
      });
      try {
        const o = out();
        const r = await latchkey(["--", ...probe(o)], { env: chainEnv({
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${s.url}/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: "ecs-test-token", P: "aws-sm://svc/s3#password",
        }) });
        expect(r.code, r.stderr).toBe(0);
        expect(readProbe(o)!.P).toBe("aws-pass-3-q7");
        expect(s.seen).toContain("GET /creds");
      } finally {
        s.close();
      }
    });

    // The SSO token cache is read by the reader the asset edits (build/executable.ts,
    // SDK_PATCHES: node:fs's readFile instead of node:fs/promises).
    it("IAM Identity Center (SSO): a profile, its cached token, the role's credentials from the portal", async () => {
      const startUrl = "https://latchkey-test.awsapps.com/start";
      const home = ws.path("sso-home");
      mkdirSync(join(home, ".aws", "sso", "cache"), { recursive: true });
      writeFileSync(join(home, ".aws", "config"),
        `[profile sso-test]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = latchkey-role\n`);
      writeFileSync(join(home, ".aws", "sso", "cache", `${createHash("sha1").update(startUrl).digest("hex")}.json`),
        JSON.stringify({ startUrl, region: "us-east-1", accessToken: "sso-access-token", expiresAt: new Date(Date.now() + 3600_000).toISOString() }));
      const s = await credentialServer((req, res) => {
        const u = new URL(req.url ?? "/", "http://x");
        if (u.pathname === "/federation/credentials" && u.searchParams.get("role_name") === "latchkey-role" && u.searchParams.get("account_id") === "123456789012" &&
          req.headers["x-amz-sso_bearer_token"] === "sso-access-token") {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ roleCredentials: { accessKeyId: "testing", secretAccessKey: "testing", sessionToken: "sso-session", expiration: Date.now() + 3600_000 } }));
        } else res.writeHead(403).end();
      });
      try {
        const o = out();
        const { AWS_CONFIG_FILE: _c, AWS_SHARED_CREDENTIALS_FILE: _s, ...rest } = chainEnv({ HOME: home, AWS_PROFILE: "sso-test", AWS_ENDPOINT_URL_SSO: s.url, P: "aws-sm://svc/s5#password" });
        const r = await latchkey(["--", ...probe(o)], { env: rest });
        expect(r.code, r.stderr).toBe(0);
        expect(readProbe(o)!.P).toBe("aws-pass-5-q7");
        expect(s.seen.some((l) => l.startsWith("GET /federation/credentials?"))).toBe(true);
      } finally {
        s.close();
      }
    });

    it("EC2 instance metadata, IMDSv2: a session token first, then the role's credentials with it", async () => {
      const s = await credentialServer((req, res) => {
        const base = /^\/latest\/meta-data\/iam\/security-credentials(-extended)?\/(.*)$/.exec(req.url ?? "");
        if (req.method === "PUT" && req.url === "/latest/api/token") res.end("imds-session-token");
        else if (req.headers["x-aws-ec2-metadata-token"] !== "imds-session-token") res.writeHead(401).end();
        else if (base && base[2] === "") res.end("latchkey-role");
        else if (base && base[2] === "latchkey-role") res.end(JSON.stringify({ Code: "Success", Type: "AWS-HMAC", ...creds() }));
        else res.writeHead(404).end();
      });
      try {
        const o = out();
        const r = await latchkey(["--", ...probe(o)], { env: chainEnv({
          AWS_EC2_METADATA_DISABLED: "false", AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url, P: "aws-sm://svc/s4#password",
        }) });
        expect(r.code, r.stderr).toBe(0);
        expect(readProbe(o)!.P).toBe("aws-pass-4-q7");
        expect(s.seen[0]).toBe("PUT /latest/api/token");
        expect(s.seen.some((l) => /security-credentials(-extended)?\/latchkey-role imds-session-token$/.test(l))).toBe(true);
      } finally {
        s.close();
      }
    });
  });
});
