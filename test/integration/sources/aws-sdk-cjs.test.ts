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
 * aws-sm:// reference compiles every Node module the request touches, so modules it does not
 * need must stay unloaded. The thin client (src/sources/aws-sm/client.ts, run here from source
 * by node's type stripping) over the asset, against a plain http:// endpoint: no node:http,
 * node:https or node:tls (a real AWS endpoint is https: and loads tls, as it must), no
 * node:fs/promises, no web streams, no Web Crypto, no zlib, no node:crypto at all (~5 ms to
 * load: SigV4 hashes with smithy's JavaScript SHA-256, request ids take their bytes from
 * /dev/urandom). Run in a plain node, whose moduleLoadList names every module loaded. The
 * request it sends is checked against the SDK's own signer over node:crypto: the same SigV4
 * signature, a version 4 request id, the awsJson1_1 target.
 */
describe("the SDK asset's first request over http://", () => {
  it("loads no http, https, tls, fs/promises, web streams, Web Crypto, zlib or crypto, and sends a correctly signed request", async () => {
    const dir = tempDir();
    copyFileSync(join(dist, "aws-sdk.cjs"), join(dir, "aws-sdk.cjs"));
    const script = join(dir, "first-request.mjs");
    const client = join(import.meta.dirname, "../../../src/sources/aws-sm/client.ts");
    writeFileSync(script, `
import { createRequire } from "node:module";
const unwanted = /^NativeModule (https?|_http_\\w+|tls|fs\\/promises|zlib|internal\\/webstreams\\/.*|crypto|internal\\/crypto\\/.*)$/;
const before = process.moduleLoadList.filter((m) => unwanted.test(m));
const { ThinSecretsManagerClient } = await import(${JSON.stringify(client)});
const sdk = createRequire(import.meta.url)(${JSON.stringify(join(dir, "aws-sdk.cjs"))});
const net = process.getBuiltinModule("node:net");
// A raw HTTP/1.1 server over node:net: node:http must not be loaded by anyone.
let sent;
const server = net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on("data", (c) => {
    buf = Buffer.concat([buf, c]);
    const end = buf.indexOf("\\r\\n\\r\\n");
    if (end === -1) return;
    const [line, ...lines] = buf.subarray(0, end).toString("latin1").split("\\r\\n");
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
    const body = buf.subarray(end + 4);
    if (body.length < Number(headers["content-length"])) return;
    const [method, path] = line.split(" ");
    sent = { method, path, headers, body: body.toString("utf8") };
    const out = JSON.stringify({ SecretValues: [{ Name: "prod/db", SecretString: "first-request-ok" }], Errors: [] });
    s.end("HTTP/1.1 200 OK\\r\\ncontent-type: application/x-amz-json-1.1\\r\\ncontent-length: " + Buffer.byteLength(out) + "\\r\\n\\r\\n" + out);
  });
});
server.listen(0, "127.0.0.1", async () => {
  const c = new ThinSecretsManagerClient(sdk, { region: "us-east-1", endpoint: "http://127.0.0.1:" + server.address().port, maxAttempts: 1 });
  const out = await c.send("BatchGetSecretValue", { SecretIdList: ["prod/db"] });
  c.destroy();
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
    expect(got.sent.method).toBe("POST");
    expect(got.sent.path).toBe("/");
    expect(headers["x-amz-target"]).toBe("secretsmanager.BatchGetSecretValue");
    expect(headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(JSON.parse(got.sent.body)).toEqual({ SecretIdList: ["prod/db"] });
    expect(headers["amz-sdk-invocation-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(headers["amz-sdk-request"]).toBe("attempt=1; max=1");
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
