/** `latchkey health`: exit 0 healthy / 1 unhealthy, one line, for every outcome. */
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { cleanEnv, freePort, httpListen, tcpListen, tmp } from "../gate/net.ts";

const health = (args: string[], env: Record<string, string> = {}) => latchkey(["health", ...args], { env: cleanEnv(env) });

function oneLine(s: string): string {
  const lines = s.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("latchkey health", () => {
  it("http 200 → 0, 503 → 1, with one short line", async () => {
    let status = 200;
    const s = await httpListen((_req, res) => {
      res.statusCode = status;
      res.end("x");
    });
    const ok = await health([`${s.url}/health`]);
    expect(ok.code).toBe(0);
    expect(oneLine(ok.stdout)).toMatch(/^healthy: http:\/\/127\.0\.0\.1:\d+\/health: status 200 \(\d+ ms\)$/);
    expect(ok.stderr).toBe("");
    status = 503;
    const bad = await health([`${s.url}/health`]);
    expect(bad.code).toBe(1);
    expect(oneLine(bad.stdout)).toMatch(/^unhealthy: http:\/\/127\.0\.0\.1:\d+\/health: status 503 \(\d+ ms\)$/);
    status = 302; // like curl -f and Kubernetes: 2xx and 3xx are healthy
    expect((await health([`${s.url}/health`])).code).toBe(0);
    await s.close();
  });

  it("body match (through node:http) and a status range from the fragment", async () => {
    const s = await httpListen((req, res) => {
      res.statusCode = req.url === "/teapot" ? 418 : 200;
      res.setHeader("transfer-encoding", "chunked");
      res.write('{"status":');
      setTimeout(() => res.end('"UP"}'), 20);
    });
    expect((await health([`${s.url}/#body="UP"`])).code).toBe(0);
    const miss = await health([`${s.url}/#body=DOWN`]);
    expect(miss.code).toBe(1);
    expect(miss.stdout).toMatch(/body did not contain the expected text/);
    expect((await health([`${s.url}/teapot#status=418`])).code).toBe(0);
    expect((await health([`${s.url}/teapot`])).code).toBe(1);
    await s.close();
  });

  it("connection refused → 1", async () => {
    const r = await health([`http://127.0.0.1:${await freePort()}/`]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stdout)).toMatch(/connection refused/);
  });

  it("a server that accepts but never answers → 1 after --timeout", async () => {
    const silent = createServer(() => {}); // holds connections open, says nothing
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const r = await health(["--timeout", "700ms", `http://127.0.0.1:${port}/`]);
    silent.close();
    expect(r.code).toBe(1);
    expect(oneLine(r.stdout)).toMatch(/no answer within 700 ms/);
    expect(r.ms).toBeLessThan(5_000);
  });

  it("the timeout also comes from LATCHKEY_HEALTH_TIMEOUT", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const r = await health([`http://127.0.0.1:${port}/`], { LATCHKEY_HEALTH_TIMEOUT: "300ms" });
    silent.close();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no answer within 300 ms/);
  });

  it("DNS failure → 1, said to be DNS", async () => {
    const r = await health(["http://no-such-host.invalid/health"]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stdout)).toMatch(/DNS: name no-such-host\.invalid (not found|could not be resolved)/);
  });

  it("tcp:// and unix:// connect checks", async () => {
    const t = await tcpListen();
    expect((await health([`tcp://127.0.0.1:${t.port}`])).code).toBe(0);
    await t.close();
    expect((await health([`tcp://127.0.0.1:${t.port}`])).code).toBe(1);
    const sock = join(tmp(), "s.sock");
    expect((await health([`unix://${sock}`])).code).toBe(1);
    const u = await tcpListen(0, sock);
    const r = await health([`unix://${sock}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/connected/);
    await u.close();
  });

  it("bad invocations are usage errors (64), not 'unhealthy'", async () => {
    const cases: string[][] = [[], ["ftp://x/"], ["file:///tmp"], ["http://a", "http://b"], ["tcp://db"], ["--status"], ["--timeout", "soon", "http://a/"]];
    for (const args of cases) {
      const r = await health(args);
      expect(r.code, args.join(" ")).toBe(64);
      expect(r.stderr).toMatch(/^latchkey: error: /);
    }
  });

  it("never shows a password from the URL", async () => {
    const s = await httpListen((req, res) => {
      res.statusCode = req.headers.authorization === `Basic ${Buffer.from("me:s3cr3t-pw").toString("base64")}` ? 200 : 401;
      res.end();
    });
    const r = await health([`http://me:s3cr3t-pw@127.0.0.1:${s.port}/`]);
    await s.close();
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain("s3cr3t-pw");
    expect(r.stdout).toContain("me:***@");
  });

  it("works after global flags too (the full program's path)", async () => {
    const s = await httpListen((_req, res) => res.end());
    const r = await latchkey(["--log-level", "error", "health", `${s.url}/`], { env: cleanEnv() });
    await s.close();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^healthy: /);
  });
});
