/**
 * The aws-sm:// source in-process against moto's server on 127.0.0.1 (real Secrets Manager
 * wire protocol): batch and single reads, versions, binary secrets, IAM-denied batch fallback,
 * errors, deadlines, policy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import {
  CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { startMoto, motoEnv, type Moto } from "../../servers/aws/moto.ts";
import { createIamUser, createSecrets } from "../../servers/aws/iam.ts";
import { createAwsSmSource } from "../../../src/sources/aws-sm/index.ts";
import { parseReference, registerScheme, type Reference } from "../../../src/sources/source.ts";
import { Settings } from "../../../src/config/settings.ts";
import { Logger } from "../../../src/log/logger.ts";
import { isLatchkeyError, type LatchkeyError } from "../../../src/errors.ts";
import { registerAwsFlags } from "../../../src/sources/aws-sm/flags.ts";
import { registerPolicyFlags } from "../../../src/policy/flags.ts";
import { resetPolicies } from "../../../src/policy/active.ts";

registerAwsFlags();
registerPolicyFlags();
registerScheme("aws-sm", () => createAwsSmSource());

const quiet = new Logger(-1);
quiet.level = "silent";
const ref = (s: string): Reference => parseReference(s, "TEST")!;
const ctx = (env: Record<string, string>, flags: Record<string, string | boolean> = {}, deadlineMs = 20_000) =>
  ({ log: quiet, deadline: Date.now() + deadlineMs, signal: new AbortController().signal, settings: new Settings({ flags, env }) });

/** The SDK reads its chains (region, credentials) from process.env: give it exactly `env`. */
async function withEnv<T>(env: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const saved = process.env;
  process.env = { PATH: saved.PATH ?? "", HOME: "/nonexistent", ...env };
  try {
    return await f();
  } finally {
    process.env = saved;
  }
}

async function fetchWith(env: Record<string, string>, refs: string[], flags: Record<string, string | boolean> = {}, deadlineMs = 20_000) {
  return withEnv(env, async () => {
    const src = createAwsSmSource(env);
    try {
      return { src, got: await src.fetch(refs.map(ref), ctx(env, flags, deadlineMs)) };
    } finally {
      await src.close();
    }
  });
}

async function failure(p: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await p;
  } catch (e) {
    if (isLatchkeyError(e)) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

let moto: Moto;
let env: Record<string, string>;
let admin: SecretsManagerClient;
const arns: Record<string, string> = {};
let prevId = "";

beforeAll(async () => {
  moto = await startMoto();
  env = motoEnv(moto);
  admin = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  for (let i = 0; i < 45; i++) {
    const r = await admin.send(new CreateSecretCommand({ Name: `app/s${i}`, SecretString: JSON.stringify({ password: `pw-${i}-secret`, user: `u${i}` }) }));
    arns[`app/s${i}`] = r.ARN!;
  }
  await admin.send(new CreateSecretCommand({ Name: "app/binary", SecretBinary: Buffer.from([0, 1, 2, 250, 255]) }));
  const first = await admin.send(new CreateSecretCommand({ Name: "app/rotating", SecretString: "old-rotating-value" }));
  prevId = first.VersionId!;
  await admin.send(new PutSecretValueCommand({ SecretId: "app/rotating", SecretString: "new-rotating-value" }));
}, 120_000);

afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

describe("reads", () => {
  it("45 secrets: BatchGetSecretValue in 3 parallel calls, values in reference order", async () => {
    const refs = Array.from({ length: 45 }, (_, i) => `aws-sm://app/s${i}#password`);
    const { src, got } = await fetchWith(env, refs);
    expect(got.map((g) => JSON.parse(g.value.toString()).password)).toEqual(Array.from({ length: 45 }, (_, i) => `pw-${i}-secret`));
    expect(src.calls.BatchGetSecretValue).toBe(3);
    expect(src.calls.GetSecretValue ?? 0).toBe(0);
    expect(got[0]!.version).toMatch(/\S/);
  });

  it("by ARN, binary, version-stage and version-id", async () => {
    const { got } = await fetchWith(env, [
      `aws-sm://${arns["app/s3"]}#user`, "aws-sm://app/binary", "aws-sm://app/rotating",
      "aws-sm://app/rotating?version-stage=AWSPREVIOUS", `aws-sm://app/rotating?version-id=${prevId}`,
    ]);
    expect(JSON.parse(got[0]!.value.toString()).user).toBe("u3");
    expect([...got[1]!.value]).toEqual([0, 1, 2, 250, 255]);
    expect(got[2]!.value.toString()).toBe("new-rotating-value");
    expect(got[3]!.value.toString()).toBe("old-rotating-value");
    expect(got[4]!.value.toString()).toBe("old-rotating-value");
    expect(got[4]!.version).toBe(prevId);
  });

  it("the same secret referenced twice is fetched once", async () => {
    const { src, got } = await fetchWith(env, ["aws-sm://app/s1#password", "aws-sm://app/s1#user"], { "aws-no-batch": true });
    expect(got).toHaveLength(2);
    expect(src.calls.GetSecretValue).toBe(1);
  });

  it("versions() reports the current version id without values (for rotation)", async () => {
    const src = createAwsSmSource(env);
    const saved = process.env;
    process.env = { ...saved, ...env };
    try {
      const v = await src.versions([ref("aws-sm://app/rotating"), ref(`aws-sm://app/rotating?version-stage=AWSPREVIOUS`)], ctx(env));
      expect(v[1]).toBe(prevId);
      expect(v[0]).not.toBe(prevId);
      expect(v[0]).toMatch(/\S/);
    } finally {
      process.env = saved;
      await src.close();
    }
  });
});

describe("failures", () => {
  it("partial failure (19 of 20 found): nothing is returned, the missing one is named", async () => {
    const refs = Array.from({ length: 19 }, (_, i) => `aws-sm://app/s${i}`);
    refs.splice(7, 0, "aws-sm://app/does-not-exist");
    const e = await failure(fetchWith(env, refs));
    expect(e.exitCode).toBe(66);
    expect(e.message).toContain("aws-sm://app/does-not-exist");
    expect(e.message).not.toMatch(/pw-\d+-secret/);
  });

  it("missing region: a config error naming the reference", async () => {
    const { AWS_REGION: _r, ...noRegion } = env;
    const e = await failure(fetchWith({ ...noRegion, AWS_DEFAULT_REGION: "" }, ["aws-sm://app/s1"]));
    expect(e.exitCode).toBe(78);
    expect(e.message).toContain("aws-sm://app/s1");
    expect(e.message).toContain("region");
  });

  it("unreachable endpoint: gives up within the deadline naming the endpoint", async () => {
    const t0 = Date.now();
    const e = await failure(fetchWith({ ...env }, ["aws-sm://app/s1"], { "aws-endpoint": "http://127.0.0.1:9" }, 3000));
    expect(e.exitCode).toBe(75);
    expect(e.message).toContain("127.0.0.1:9");
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it("malformed references and unknown parameters", async () => {
    expect((await failure(fetchWith(env, ["aws-sm://app/s1?stage=x"]))).message).toContain("unknown parameter 'stage'");
    expect((await failure(fetchWith(env, ["aws-sm://arn:aws:secretsmanager:nowhere"]))).message).toContain("malformed");
    expect((await failure(fetchWith(env, ["aws-sm://app/has space"]))).message).toContain("not a valid secret name");
  });
});

describe("throttling beyond the deadline", () => {
  let server: Server;
  let url = "";
  let hits = 0;
  beforeAll(async () => {
    // Secrets Manager's JSON error shape for throttling, on every call.
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "ThrottlingException" });
      res.end(JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("retries with backoff, then fails at the deadline naming the throttling", async () => {
    const t0 = Date.now();
    const e = await failure(fetchWith(env, ["aws-sm://app/s1"], { "aws-endpoint": url, "aws-max-attempts": "50" }, 2500));
    const took = Date.now() - t0;
    expect(e.exitCode).toBe(75);
    expect(e.message).toContain("deadline");
    expect(e.message).toContain("Throttling");
    expect(hits).toBeGreaterThan(1);
    expect(took).toBeLessThan(10_000);
  });
});

describe("IAM: batch denied → GetSecretValue fallback; denied secret names the caller", () => {
  let m: Moto;
  let keys: { id: string; secret: string };
  let none: { id: string; secret: string };
  beforeAll(async () => {
    // 3 IAM actions per user + 3 secrets run unauthenticated; everything after is checked.
    m = await startMoto({ INITIAL_NO_AUTH_ACTION_COUNT: "9" });
    keys = await createIamUser(m.url, "app", [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: "*" }]);
    none = await createIamUser(m.url, "nobody", [{ Effect: "Allow", Action: ["sts:GetCallerIdentity"], Resource: "*" }]);
    await createSecrets(m.url, [["pub/a", "value-a-123"], ["pub/b", "value-b-456"], ["locked", "locked-value-789"]]);
  }, 120_000);
  afterAll(async () => {
    await m?.stop();
  });

  it("falls back to GetSecretValue when BatchGetSecretValue is denied", async () => {
    const e2 = motoEnv(m, { AWS_ACCESS_KEY_ID: keys.id, AWS_SECRET_ACCESS_KEY: keys.secret });
    const { src, got } = await fetchWith(e2, ["aws-sm://pub/a", "aws-sm://pub/b"]);
    expect(got.map((g) => g.value.toString())).toEqual(["value-a-123", "value-b-456"]);
    expect(src.calls.BatchGetSecretValue).toBe(1);
    expect(src.calls.GetSecretValue).toBe(2);
  });

  it("AccessDenied fails at once, naming the secret and the caller", async () => {
    const e2 = motoEnv(m, { AWS_ACCESS_KEY_ID: none.id, AWS_SECRET_ACCESS_KEY: none.secret });
    const e = await failure(fetchWith(e2, ["aws-sm://locked"]));
    expect(e.exitCode).toBe(77);
    expect(e.message).toContain("aws-sm://locked");
    expect(e.message).toContain("arn:aws:iam::123456789012:user/nobody");
    expect(e.message).not.toContain("locked-value-789");
  });
});

describe("policy", () => {
  it("only allowed names are fetched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-aws-policy-"));
    writeFileSync(join(dir, "p.json"), JSON.stringify({ allow: { "aws-sm": ["app/s1*"] } }));
    try {
      const e = await failure(fetchWith(env, ["aws-sm://app/s2"], { policy: join(dir, "p.json") }));
      expect(e.exitCode).toBe(77);
      expect(e.message).toContain("app/s1*");
      const { got } = await fetchWith(env, ["aws-sm://app/s12"], { policy: join(dir, "p.json") });
      expect(got).toHaveLength(1);
    } finally {
      resetPolicies();
    }
  });
});
