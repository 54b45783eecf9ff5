/** https probes: verification on by default, a CA file, `insecure` only when asked. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { cleanEnv, tmp } from "../gate/net.ts";

let server: Server;
let url = "";
let ca = "";

beforeAll(async () => {
  const dir = tmp();
  const key = join(dir, "key.pem");
  ca = join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca, "-days", "1",
    "-subj", "/CN=latchkey-test", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  server = createServer({ key: readFileSync(key), cert: readFileSync(ca) }, (_req, res) => res.end("secure ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}/health`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("https probes", () => {
  it("refuses an unknown certificate by default, and says it is TLS", async () => {
    const r = await latchkey(["health", url], { env: cleanEnv() });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^unhealthy: https:\/\/127\.0\.0\.1:\d+\/health: TLS: .*(SELF_SIGNED|self-signed)/);
  });

  it("trusts a CA file given with #ca=, and skips verification only with an explicit #insecure", async () => {
    expect((await latchkey(["health", `${url}#ca=${ca}`], { env: cleanEnv() })).code).toBe(0);
    expect((await latchkey(["health", `${url}#insecure`], { env: cleanEnv() })).code).toBe(0);
    expect((await latchkey(["health", `${url}#ca=${ca}&body=secure`], { env: cleanEnv() })).code).toBe(0);
    const missing = await latchkey(["health", `${url}#ca=/nonexistent/ca.pem`], { env: cleanEnv() });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/cannot read CA file \/nonexistent\/ca\.pem \(ENOENT\)/);
  });

  it("the gate does not retry a certificate error: it fails at once with the reason", async () => {
    const r = await latchkey(["--wait", url, "--wait-timeout", "60s", "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(69);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/FAIL wait https:\/\/127\.0\.0\.1:\d+\/health: TLS: .* \(not retried\)/);
    expect(r.stderr).toMatch(/startup gate failed .*not ready: https:\/\/127\.0\.0\.1:\d+\/health \(tls\)/);
  });
});
