/**
 * The thin Secrets Manager client's protocol edges, over the SDK's real parts (sdk-parts.ts
 * from node_modules): error names and messages as the SDK reads them, SecretBinary, the SDK's
 * retry strategy on throttling and 5xx, clock-skew correction, the abort signal. moto is the
 * real server elsewhere (test/integration/sources/aws-sm-source.test.ts); the faults here are
 * ones moto cannot be made to produce, from a small node:http double.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { errorCodeOf, errorFrom, parseOutput, ThinSecretsManagerClient } from "../../../../src/sources/aws-sm/client.ts";
import type { SdkModule } from "../../../../src/sources/aws-sm/sdk.ts";
import type { TransportResponse } from "../../../../src/sources/aws-sm/transport.ts";

const res = (statusCode: number, body: string, headers: Record<string, string> = {}): TransportResponse =>
  ({ statusCode, headers, body: new Uint8Array(Buffer.from(body)) });

describe("error names, as the SDK's JSON RPC protocols read them", () => {
  it("__type first, namespace prefix and :suffix removed", () => {
    expect(errorCodeOf({ "x-amzn-errortype": "Other" }, { __type: "com.amazonaws.secretsmanager#ResourceNotFoundException" })).toBe("ResourceNotFoundException");
    expect(errorCodeOf({}, { __type: "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/" })).toBe("ThrottlingException");
  });
  it("then a code member, then the x-amzn-errortype header", () => {
    expect(errorCodeOf({ "x-amzn-errortype": "Other" }, { Code: "InvalidRequestException" })).toBe("InvalidRequestException");
    expect(errorCodeOf({ "X-Amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/" }, {})).toBe("AccessDeniedException");
    expect(errorCodeOf({}, {})).toBeUndefined();
  });
  it("an error response: name, message (message or Message), status, request id, the other members", () => {
    const e = errorFrom(res(400, JSON.stringify({ __type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret.", Extra: 1 }), { "x-amzn-requestid": "req-1" }));
    expect(e.name).toBe("ResourceNotFoundException");
    expect(e.message).toBe("Secrets Manager can't find the specified secret.");
    expect(e.$metadata).toMatchObject({ httpStatusCode: 400, requestId: "req-1" });
    expect(e.$fault).toBe("client");
    expect((e as unknown as { Extra: number }).Extra).toBe(1);
    expect(e.$response?.statusCode).toBe(400);
  });
  it("an IAM denial in the query protocol's XML (moto with IAM enforcement)", () => {
    const xml = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/nobody is not authorized</Message></Error></ErrorResponse>";
    const e = errorFrom(res(403, xml, { "content-type": "text/xml" }));
    expect(e.name).toBe("AccessDeniedException");
    expect(e.message).toContain("arn:aws:iam::123456789012:user/nobody");
    expect(e.$metadata.httpStatusCode).toBe(403);
  });
  it("a body that is no JSON (a proxy's error page): named by its header or UnknownError, its status kept", () => {
    const e = errorFrom(res(502, "<html>Bad Gateway</html>"));
    expect(e.name).toBe("UnknownError");
    expect(e.message).toContain("502");
    expect(e.$metadata.httpStatusCode).toBe(502);
    expect(e.$fault).toBe("server");
  });
});

describe("responses", () => {
  it("SecretBinary arrives base64 in JSON and comes out as bytes, also inside a batch", () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const single = parseOutput(res(200, JSON.stringify({ Name: "b", SecretBinary: bytes.toString("base64") })));
    expect([...(single.SecretBinary as Uint8Array)]).toEqual([...bytes]);
    const batch = parseOutput(res(200, JSON.stringify({ SecretValues: [{ Name: "b", SecretBinary: bytes.toString("base64") }, { Name: "s", SecretString: "x" }] })));
    const values = batch.SecretValues as { SecretBinary?: Uint8Array; SecretString?: string }[];
    expect([...values[0]!.SecretBinary!]).toEqual([...bytes]);
    expect(values[1]!.SecretString).toBe("x");
  });
});

describe("requests, retries, clock skew and the abort signal (against a local double)", () => {
  let sdk: SdkModule;
  let server: Server;
  let url = "";
  let handler: (req: IncomingMessage & { body: string }, res: ServerResponse) => void = () => {};
  const seen: { headers: IncomingMessage["headers"]; body: string }[] = [];
  const saved = process.env;

  beforeAll(async () => {
    process.env = {
      PATH: saved.PATH ?? "", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key",
      AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    };
    sdk = await import("../../../../src/sources/aws-sm/sdk-parts.ts");
    server = createServer((req, r) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        seen.push({ headers: req.headers, body });
        handler(Object.assign(req, { body }), r);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    process.env = saved;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  afterEach(() => {
    seen.length = 0;
  });

  const json = (r: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) => {
    r.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...headers });
    r.end(JSON.stringify(body));
  };
  const client = (maxAttempts: number, counted?: Record<string, number>) => new ThinSecretsManagerClient(sdk, { region: "us-east-1", endpoint: url, maxAttempts, userAgent: "latchkey/test" }, {
    attempt: (op) => {
      if (counted) counted[op] = (counted[op] ?? 0) + 1;
    },
  });

  it("sends awsJson1_1: POST /, X-Amz-Target, the content type, a SigV4 signature, the attempt count", async () => {
    handler = (_req, r) => json(r, 200, { Name: "a", SecretString: "v", VersionId: "v1" });
    const c = client(3);
    try {
      const out = await c.send("GetSecretValue", { SecretId: "a" });
      expect(out.SecretString).toBe("v");
      expect(out.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
    } finally {
      c.destroy();
    }
    const h = seen[0]!.headers;
    expect(h["x-amz-target"]).toBe("secretsmanager.GetSecretValue");
    expect(h["content-type"]).toBe("application/x-amz-json-1.1");
    expect(h["user-agent"]).toBe("latchkey/test");
    expect(h["amz-sdk-request"]).toBe("attempt=1; max=3");
    expect(h.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/secretsmanager\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/);
    expect(JSON.parse(seen[0]!.body)).toEqual({ SecretId: "a" });
  });

  // IPv6 by its IPv4-mapped form: the connection is to 127.0.0.1, the URL and Host header IPv6's.
  it("an IPv6 literal endpoint: the Host header (signed) keeps its brackets", async () => {
    const v6 = createServer((req, r) => {
      req.resume();
      req.on("end", () => {
        seen.push({ headers: req.headers, body: "" });
        json(r, 200, { Name: "a", SecretString: "v6" });
      });
    });
    await new Promise<void>((r) => v6.listen(0, "127.0.0.1", () => r()));
    const port = (v6.address() as { port: number }).port;
    const c = new ThinSecretsManagerClient(sdk, { region: "us-east-1", endpoint: `http://[::ffff:127.0.0.1]:${port}`, maxAttempts: 1 });
    try {
      expect((await c.send("GetSecretValue", { SecretId: "a" })).SecretString).toBe("v6");
    } finally {
      c.destroy();
      v6.closeAllConnections();
      await new Promise<void>((r) => v6.close(() => r()));
    }
    expect(seen[0]!.headers.host).toBe(`[::ffff:7f00:1]:${port}`); // the URL's own spelling of the address
    expect(seen[0]!.headers.authorization).toMatch(/SignedHeaders=[^,]*host/);
  });

  it("a custom endpoint with FIPS or dual-stack on is refused before anything is sent, as the SDK's endpoint rules refuse it", async () => {
    handler = (_req, r) => json(r, 200, { Name: "a", SecretString: "v" });
    for (const [name, what] of [["AWS_USE_FIPS_ENDPOINT", "FIPS"], ["AWS_USE_DUALSTACK_ENDPOINT", "Dualstack"]] as const) {
      process.env[name] = "true";
      const counted: Record<string, number> = {};
      const c = client(3, counted);
      try {
        await expect(c.send("GetSecretValue", { SecretId: "a" })).rejects.toMatchObject({ name: "EndpointError", message: `Invalid Configuration: ${what} and custom endpoint are not supported` });
      } finally {
        c.destroy();
        delete process.env[name];
      }
      expect(seen).toHaveLength(0);
      expect(counted).toEqual({});
    }
  });

  it("retries 5xx and throttling with the SDK's strategy, one invocation id, each attempt counted", async () => {
    const answers = [
      (r: ServerResponse) => json(r, 503, { __type: "ServiceUnavailable", message: "try later" }),
      (r: ServerResponse) => json(r, 400, { __type: "ThrottlingException", message: "Rate exceeded" }),
      (r: ServerResponse) => json(r, 200, { SecretValues: [], Errors: [] }),
    ];
    handler = (_req, r) => answers.shift()!(r);
    const counted: Record<string, number> = {};
    const c = client(3, counted);
    try {
      const out = await c.send("BatchGetSecretValue", { SecretIdList: ["a"] });
      expect(out.$metadata.attempts).toBe(3);
    } finally {
      c.destroy();
    }
    expect(counted.BatchGetSecretValue).toBe(3);
    expect(seen.map((s) => s.headers["amz-sdk-request"])).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    expect(new Set(seen.map((s) => s.headers["amz-sdk-invocation-id"])).size).toBe(1);
  }, 10_000);

  it("does not retry a client error, and stops at maxAttempts with the last error", async () => {
    handler = (_req, r) => json(r, 400, { __type: "ResourceNotFoundException", message: "not found" });
    const c = client(5);
    await expect(c.send("GetSecretValue", { SecretId: "a" })).rejects.toMatchObject({ name: "ResourceNotFoundException", $metadata: { attempts: 1 } });
    expect(seen).toHaveLength(1);
    seen.length = 0;
    handler = (_req, r) => json(r, 500, { __type: "InternalServiceError", message: "boom" });
    await expect(c.send("GetSecretValue", { SecretId: "a" })).rejects.toMatchObject({ name: "InternalServiceError", $metadata: { httpStatusCode: 500, attempts: 5 } });
    expect(seen).toHaveLength(5);
    c.destroy();
  }, 10_000);

  it("a clock skew error with the server's Date moves the signing clock and is retried", async () => {
    const ahead = Date.now() + 3_600_000;
    let n = 0;
    handler = (_req, r) => {
      const date = new Date(ahead).toUTCString();
      // Not transient by itself (unlike "Signature expired"): only the corrected clock makes it so.
      if (n++ === 0) json(r, 403, { __type: "InvalidSignatureException", message: "Signature not yet current: 20261207T000000Z is still later than 20261206T235500Z" }, { date });
      else json(r, 200, { Name: "a", SecretString: "v" }, { date });
    };
    const c = client(3);
    try {
      await c.send("GetSecretValue", { SecretId: "a" });
    } finally {
      c.destroy();
    }
    expect(seen).toHaveLength(2);
    const amzDate = (s: string) => Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 11)}:${s.slice(11, 13)}:${s.slice(13)}`);
    const first = amzDate(String(seen[0]!.headers["x-amz-date"]));
    const second = amzDate(String(seen[1]!.headers["x-amz-date"]));
    expect(second - first).toBeGreaterThan(3_500_000);
    expect(c.systemClockOffset).toBeGreaterThan(3_500_000);
  }, 10_000);

  it("the abort signal cuts an unanswered request, and a retry's backoff wait", async () => {
    handler = () => {}; // never answers
    const c = client(3);
    let t0 = Date.now();
    await expect(c.send("GetSecretValue", { SecretId: "a" }, { abortSignal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - t0).toBeLessThan(1_500);
    // A throttling answer that asks for 2 s (x-amz-retry-after, which the SDK's strategy
    // honours); the signal fires during the strategy's wait.
    handler = (_req, r) => json(r, 400, { __type: "ThrottlingException", message: "Rate exceeded" }, { "x-amz-retry-after": "2000" });
    t0 = Date.now();
    await expect(c.send("GetSecretValue", { SecretId: "a" }, { abortSignal: AbortSignal.timeout(150) })).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - t0).toBeLessThan(1_000);
    c.destroy();
  }, 10_000);
});
