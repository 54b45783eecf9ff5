/**
 * The startup gate, through the built binary: dependencies that become ready late, one that
 * never does, twenty at once, and a stop signal in the middle.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey, start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { cleanEnv, freePort, httpListen, sleep, tcpListen, tmp, until } from "./net.ts";

/** An app that proves it ran by creating a file. */
function marker(): { path: string; app: string[] } {
  const path = join(tmp(), "app-ran");
  return { path, app: ["sh", "-c", `echo ran > ${path}; echo app-ran`] };
}

/** A dependency that answers 503 forever; `probed` resolves on its first request. */
async function notReady(): Promise<{ url: string; probed: Promise<void>; close: () => Promise<void> }> {
  let first: () => void = () => {};
  const probed = new Promise<void>((r) => (first = r));
  const s = await httpListen((_req, res) => {
    first();
    res.statusCode = 503;
    res.end();
  });
  return { url: `${s.url}/health`, probed, close: s.close };
}

describe("startup gate: waits", () => {
  it("waits for a TCP listener that appears late, then starts the app", async () => {
    const port = await freePort();
    const m = marker();
    const run = start(LATCHKEY, ["--wait", `tcp://127.0.0.1:${port}`, "--wait-timeout", "30s", "--log-level", "info", "--", ...m.app], { env: cleanEnv() });
    await sleep(1200);
    expect(existsSync(m.path)).toBe(false); // still gated
    const server = await tcpListen(port);
    const r = await run.done;
    await server.close();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("app-ran");
    expect(r.ms).toBeGreaterThan(1100);
    expect(r.stderr).toMatch(new RegExp(`ok +wait tcp://127\\.0\\.0\\.1:${port}/?: connected \\([\\d.]+ ?m?s, \\d+ attempts\\)`));
    expect(r.stderr).toContain("startup gate passed");
  });

  it("retries an HTTP check answering 503 until it answers 200", async () => {
    let calls = 0;
    const server = await httpListen((_req, res) => {
      calls++;
      res.statusCode = calls <= 3 ? 503 : 200;
      res.end(calls <= 3 ? "warming up" : "ok");
    });
    const m = marker();
    const r = await latchkey(["--wait", `${server.url}/health`, "--log-level", "info", "--", ...m.app], { env: cleanEnv() });
    await server.close();
    expect(r.code).toBe(0);
    expect(calls).toBe(4);
    expect(r.stderr).toMatch(/ok +wait http:\/\/127\.0\.0\.1:\d+\/health: status 200 \([\d. ms]+, 4 attempts\)/);
    expect(existsSync(m.path)).toBe(true);
  });

  it("accepts a custom status range and a body match from the URL fragment, never sending the fragment", async () => {
    const paths: string[] = [];
    const server = await httpListen((req, res) => {
      paths.push(req.url ?? "");
      res.statusCode = 204;
      res.end();
    });
    let bodyCalls = 0;
    const bodyServer = await httpListen((_req, res) => res.end(++bodyCalls > 2 ? '{"status":"UP"}' : '{"status":"DOWN"}'));
    const r = await latchkey([
      "--wait", `${server.url}/ready?x=1#status=204`,
      "--wait", `${bodyServer.url}/#body="UP"`,
      "--wait-timeout", "20s",
      "--log-level", "info", "--", "true"], { env: cleanEnv() });
    await server.close();
    await bodyServer.close();
    expect(r.code).toBe(0);
    expect(paths[0]).toBe("/ready?x=1");
    expect(r.stderr).toMatch(/ok +wait http:\/\/127\.0\.0\.1:\d+\/: status 200, body matched \([\d. ms]+, 3 attempts\)/);
  });

  it("reports a check that never passes: exit 69, why, how long, and the app never starts", async () => {
    const port = await freePort();
    const server = await httpListen((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const m = marker();
    const r = await latchkey(["--wait", `tcp://127.0.0.1:${port}`, "--wait", `${server.url}/health`, "--wait-timeout", "1500ms", "--", ...m.app], { env: cleanEnv() });
    await server.close();
    expect(r.code).toBe(69);
    expect(existsSync(m.path)).toBe(false);
    expect(r.stdout).not.toContain("app-ran");
    expect(r.stderr).toContain("startup gate failed after");
    expect(r.stderr).toMatch(new RegExp(`FAIL wait tcp://127\\.0\\.0\\.1:${port}/?: connection refused; not ready after 1\\.\\ds \\(1\\.\\ds, \\d+ attempts\\)`));
    expect(r.stderr).toMatch(/FAIL wait http:\/\/127\.0\.0\.1:\d+\/health: status 503; not ready after/);
    expect(r.stderr).toMatch(/the app was not started/);
    // One elapsed time per check and a bounded overall wait.
    expect(r.ms).toBeLessThan(10_000);
  });

  it("a per-check #timeout fails that check early and stops the others", async () => {
    const a = await freePort();
    const b = await freePort();
    const r = await latchkey(["--wait", `tcp://127.0.0.1:${a}#timeout=500ms`, "--wait", `tcp://127.0.0.1:${b}`, "--wait-timeout", "30s", "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(69);
    expect(r.ms).toBeLessThan(8_000);
    expect(r.stderr).toMatch(new RegExp(`FAIL wait tcp://127\\.0\\.0\\.1:${a}/?: connection refused; not ready after`));
    expect(r.stderr).toMatch(new RegExp(`stop wait tcp://127\\.0\\.0\\.1:${b}/?: connection refused; stopped before it was ready`));
  });

  it("waits for a file and for a unix socket", async () => {
    const dir = tmp();
    const file = join(dir, "ready");
    const sock = join(dir, "app.sock");
    const run = start(LATCHKEY, ["--wait", `file://${file}`, "--wait", `unix://${sock}`, "--", "true"], { env: cleanEnv() });
    await sleep(500);
    writeFileSync(file, "");
    const s = await tcpListen(0, sock);
    const r = await run.done;
    await s.close();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("20 checks run in parallel: the gate takes about as long as the slowest", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    const delays = ports.map((_, i) => 200 + ((i * 7919) % 20) * 100); // 200..2100 ms, shuffled
    const slowest = Math.max(...delays);
    const args = ports.flatMap((p) => ["--wait", `tcp://127.0.0.1:${p}`]);
    const t0 = Date.now();
    const run = start(LATCHKEY, [...args, "--wait-timeout", "60s", "--log-level", "info", "--", "true"], { env: cleanEnv() });
    const servers = await Promise.all(ports.map(async (p, i) => {
      await sleep(delays[i]!);
      return tcpListen(p);
    }));
    const r = await run.done;
    const total = Date.now() - t0;
    await Promise.all(servers.map((s) => s.close()));
    expect(r.code).toBe(0);
    expect(r.stderr.match(/ok +wait tcp:/g)?.length).toBe(20);
    // Sequential waits would take the sum (~23 s); concurrent ones the slowest plus one
    // backoff step (≤ 1 s) and startup. Generous bound for a loaded 2-core machine.
    expect(total).toBeGreaterThanOrEqual(slowest);
    expect(total).toBeLessThan(slowest + 4_000);
  });

  it("20 slow answers are awaited at the same time, not one after another", async () => {
    // Each dependency takes 1.5 s to answer: one after another would be 30 s.
    const servers = await Promise.all(Array.from({ length: 20 }, () => httpListen((_req, res) => {
      setTimeout(() => res.end("ok"), 1_500);
    })));
    const r = await latchkey([...servers.flatMap((s) => ["--wait", `${s.url}/slow`]), "--log-level", "info", "--", "true"], { env: cleanEnv() });
    await Promise.all(servers.map((s) => s.close()));
    expect(r.code).toBe(0);
    expect(r.stderr.match(/ok +wait http:.*: status 200 \([\d.]+s, 1 attempt\)/g)?.length).toBe(20);
    expect(r.ms).toBeGreaterThan(1_500);
    expect(r.ms).toBeLessThan(8_000);
  });
});

describe("startup gate: configuration", () => {
  it("takes waits, their timeout and hooks from the config file", async () => {
    const dir = tmp();
    const port = await freePort();
    const cfg = join(dir, "latchkey.yaml");
    writeFileSync(cfg, `wait:\n  - tcp://127.0.0.1:${port}\nwaitTimeout: 700ms\npreStart:\n  - "touch ${dir}/hook"\n`);
    const r = await latchkey(["--config", cfg, "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/not ready after 7\d\d ms/);
    expect(existsSync(join(dir, "hook"))).toBe(false);
  });

  it("names the flag, variable or file key of a bad wait URL", async () => {
    const dir = tmp();
    const cfg = join(dir, "latchkey.yaml");
    writeFileSync(cfg, "wait:\n  - db:5432\n");
    const file = await latchkey(["--config", cfg, "--", "true"], { env: cleanEnv() });
    expect(file.code).toBe(78);
    expect(file.stderr).toMatch(/latchkey\.yaml: wait: invalid value 'db:5432': expected a URL such as tcp:\/\/db:5432/);
    const env = await latchkey(["--", "true"], { env: cleanEnv({ LATCHKEY_WAIT: "tcp://db" }) });
    expect(env.code).toBe(78);
    expect(env.stderr).toMatch(/LATCHKEY_WAIT: invalid value 'tcp:\/\/db': expected tcp:\/\/HOST:PORT/);
    const flag = await latchkey(["--wait", "http://h/#insecure", "--", "true"], { env: cleanEnv() });
    expect(flag.code).toBe(64);
    expect(flag.stderr).toMatch(/--wait: invalid value 'http:\/\/h\/#insecure': unknown option '#insecure' for http/);
  });
});

describe("startup gate: stop signals", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("%s during the gate stops it at once with %i and the app never starts", async (sig, code) => {
    const dep = await notReady();
    const m = marker();
    const run = start(LATCHKEY, ["--wait", dep.url, "--wait-timeout", "60s", "--", ...m.app], { env: cleanEnv() });
    await dep.probed; // the gate is running (a signal before latchkey is up would test nothing)
    const t0 = Date.now();
    run.proc.kill(sig);
    const r = await run.done;
    await dep.close();
    expect(r.code).toBe(code);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(existsSync(m.path)).toBe(false);
    expect(r.stderr).toContain(`${sig} during the startup gate`);
    expect(r.stderr).toMatch(/startup gate interrupted by SIG(TERM|INT)/);
  });

  it("as PID 1 too (where the kernel drops SIGTERM unless latchkey handles it)", async () => {
    const dep = await notReady();
    const m = marker();
    const run = start("unshare", ["--pid", "--fork", "--mount-proc", LATCHKEY, "--wait", dep.url, "--", ...m.app], { env: cleanEnv() });
    const pid = await until(() => {
      const kids = readFileSync(`/proc/${run.proc.pid}/task/${run.proc.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      return kids.find((k) => readFileSync(`/proc/${k}/cmdline`, "utf8").split("\0")[0] === LATCHKEY);
    }, "latchkey under unshare");
    await dep.probed;
    process.kill(pid, "SIGTERM");
    const r = await run.done;
    await dep.close();
    expect(r.code).toBe(143);
    expect(existsSync(m.path)).toBe(false);
  });

  it("SIGTERM during a pre-start hook stops the hook and latchkey exits 143", async () => {
    const dir = tmp();
    const m = marker();
    const hookPid = join(dir, "hook.pid");
    const run = start(LATCHKEY, ["--pre-start", `sh -c 'echo $$ > ${hookPid}; exec sleep 30'`, "--", ...m.app], { env: cleanEnv() });
    const pid = await until(() => (existsSync(hookPid) ? Number(readFileSync(hookPid, "utf8")) || undefined : undefined), "hook pid");
    run.proc.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).toBe(143);
    expect(existsSync(m.path)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow(); // the hook is gone too
  });
});
