/**
 * dist/latchkey.cjs on a plain Node has no SEA asset: it loads the AWS SDK bundle shipped beside
 * it (dist/aws-sdk.cjs), and says what to ship when that file is missing. Copies of the two files
 * in a temp dir make sure no node_modules above them can stand in for the SDK.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/processes.ts";
import { run } from "../../helpers/run.ts";

const dist = dirname(LATCHKEY);
const env = {
  PATH: process.env.PATH!, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key", AWS_REGION: "us-east-1",
  // Nothing listens on port 9 of 127.0.0.1: the SDK loads, tries, and gives up at the deadline.
  AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:9", DB_PASSWORD: "aws-sm://prod/db#password",
};

describe("aws-sm:// from dist/latchkey.cjs", () => {
  it("uses aws-sdk.cjs beside the bundle", async () => {
    const dir = tempDir();
    for (const f of ["latchkey.cjs", "aws-sdk.cjs"]) copyFileSync(join(dist, f), join(dir, f));
    const r = await run(process.execPath, [join(dir, "latchkey.cjs"), "--fetch-timeout", "1500ms", "--", "sh", "-c", "echo APP-RAN"], { env });
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toContain("aws-sm://prod/db#password");
    expect(r.stderr).toContain("ECONNREFUSED");
    expect(r.stdout).not.toContain("APP-RAN");
  });

  it("without it: a one-line error saying what to ship (78), not a stack trace", async () => {
    const dir = tempDir();
    copyFileSync(join(dist, "latchkey.cjs"), join(dir, "latchkey.cjs"));
    const r = await run(process.execPath, [join(dir, "latchkey.cjs"), "--", "sh", "-c", "echo APP-RAN"], { env });
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("aws-sdk.cjs");
    expect(r.stdout).not.toContain("APP-RAN");
  });
});

/**
 * What the SDK asset's first request loads (build/executable.ts, SDK_PATCHES): a run with one
 * aws-sm:// reference compiles every Node module the SDK touches, so modules the request does
 * not need must stay unloaded. Against a plain http:// endpoint: no node:https or node:tls (a
 * real AWS endpoint is https: and loads them, as it must), no node:fs/promises, no web streams,
 * no Web Crypto, no zlib, no node:crypto at all (~5 ms to load: SigV4 hashes with smithy's
 * JavaScript SHA-256, request ids take their bytes from /dev/urandom). Run in a plain node,
 * whose moduleLoadList names every module loaded. The request it sends is checked against
 * the SDK's own signer over node:crypto: the same SigV4 signature, a version 4 request id.
 */
describe("the SDK asset's first request over http://", () => {
  it("loads no https, tls, fs/promises, web streams, Web Crypto, zlib or crypto, and sends a correctly signed request", async () => {
    const dir = tempDir();
    copyFileSync(join(dist, "aws-sdk.cjs"), join(dir, "aws-sdk.cjs"));
    const script = join(dir, "first-request.cjs");
    writeFileSync(script, `
const unwanted = /^NativeModule (https|tls|fs\\/promises|zlib|internal\\/webstreams\\/.*|crypto|internal\\/crypto\\/.*)$/;
const before = process.moduleLoadList.filter((m) => unwanted.test(m));
const http = require("node:http");
const sdk = require(${JSON.stringify(join(dir, "aws-sdk.cjs"))});
let sent;
const server = http.createServer((req, res) => {
  const body = [];
  req.on("data", (c) => body.push(c));
  req.on("end", () => (sent = { method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(body).toString("utf8") }));
  res.setHeader("content-type", "application/x-amz-json-1.1");
  res.end(JSON.stringify({ SecretValues: [{ Name: "prod/db", SecretString: "first-request-ok" }], Errors: [] }));
});
server.listen(0, "127.0.0.1", async () => {
  const client = new sdk.SecretsManagerClient({ region: "us-east-1", endpoint: "http://127.0.0.1:" + server.address().port, maxAttempts: 1 });
  const out = await client.send(new sdk.BatchGetSecretValueCommand({ SecretIdList: ["prod/db"] }));
  client.destroy();
  server.close();
  console.log(JSON.stringify({ value: out.SecretValues[0].SecretString, before, loaded: process.moduleLoadList.filter((m) => unwanted.test(m)), sent }));
});
`);
    const r = await run(process.execPath, [script], { env: { PATH: process.env.PATH!, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key", AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") } });
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { value: string; before: string[]; loaded: string[]; sent: { method: string; path: string; headers: Record<string, string>; body: string } };
    expect(got.value).toBe("first-request-ok");
    expect(got.before).toEqual([]); // nothing the test looks for was loaded by node itself
    expect(got.loaded).toEqual([]);
    const { headers } = got.sent;
    expect(headers["amz-sdk-invocation-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The signature the SDK's signer computes with node:crypto for the same request.
    const auth = /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/us-east-1\/secretsmanager\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(headers.authorization ?? "");
    expect(auth, headers.authorization).not.toBeNull();
    const signedNames = auth![2]!.split(";");
    expect(signedNames).toEqual(expect.arrayContaining(["host", "x-amz-date", "x-amz-target", "content-type"]));
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { Sha256 } = await import("../../servers/aws/sha256.ts");
    const signer = new SignatureV4({ service: "secretsmanager", region: "us-east-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-real-secret-key" }, sha256: Sha256 as never, applyChecksum: false });
    const amzDate = headers["x-amz-date"]!;
    const [host, port] = headers.host!.split(":");
    const expected = await signer.sign({
      method: got.sent.method, protocol: "http:", hostname: host!, port: Number(port), path: got.sent.path, query: {}, body: got.sent.body,
      headers: Object.fromEntries(signedNames.map((n) => [n, headers[n]!])),
    }, { signingDate: new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`) });
    expect(headers.authorization).toBe(expected.headers.authorization);
  });
});
