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
 * no Web Crypto, no zlib. Run in a plain node, whose moduleLoadList names every module loaded.
 */
describe("the SDK asset's first request over http://", () => {
  it("loads no https, tls, fs/promises, web streams, Web Crypto or zlib, and gets the secret", async () => {
    const dir = tempDir();
    copyFileSync(join(dist, "aws-sdk.cjs"), join(dir, "aws-sdk.cjs"));
    const script = join(dir, "first-request.cjs");
    writeFileSync(script, `
const unwanted = /^NativeModule (https|tls|fs\\/promises|zlib|internal\\/webstreams\\/.*|internal\\/crypto\\/webcrypto)$/;
const before = process.moduleLoadList.filter((m) => unwanted.test(m));
const http = require("node:http");
const sdk = require(${JSON.stringify(join(dir, "aws-sdk.cjs"))});
const server = http.createServer((req, res) => {
  req.resume();
  res.setHeader("content-type", "application/x-amz-json-1.1");
  res.end(JSON.stringify({ SecretValues: [{ Name: "prod/db", SecretString: "first-request-ok" }], Errors: [] }));
});
server.listen(0, "127.0.0.1", async () => {
  const client = new sdk.SecretsManagerClient({ region: "us-east-1", endpoint: "http://127.0.0.1:" + server.address().port, maxAttempts: 1 });
  const out = await client.send(new sdk.BatchGetSecretValueCommand({ SecretIdList: ["prod/db"] }));
  client.destroy();
  server.close();
  console.log(JSON.stringify({ value: out.SecretValues[0].SecretString, before, loaded: process.moduleLoadList.filter((m) => unwanted.test(m)) }));
});
`);
    const r = await run(process.execPath, [script], { env: { PATH: process.env.PATH!, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key", AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") } });
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { value: string; before: string[]; loaded: string[] };
    expect(got.value).toBe("first-request-ok");
    expect(got.before).toEqual([]); // nothing the test looks for was loaded by node itself
    expect(got.loaded).toEqual([]);
  });
});
