/**
 * The status endpoint through the app's lifecycle: starting (gate running) → ready → not
 * ready (the app's own probe fails) → app exited; and `latchkey health --status` against it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey, start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { cleanEnv, freePort, get, httpListen, tcpListen, tmp, until } from "../gate/net.ts";

describe("status endpoint", () => {
  it("answers each endpoint with the right code and body from start to exit", async () => {
    const statusPort = await freePort();
    const depPort = await freePort();
    let appReady = 200;
    const ready = await httpListen((_req, res) => {
      res.statusCode = appReady;
      res.end();
    });
    const dir = tmp();
    const exitNow = join(dir, "exit-now");
    // The app exits 3 when told to, leaving a child in its group that ignores SIGTERM, so
    // latchkey stays up for --grace with the app exited: the window to see phase "exited".
    const app = ["sh", "-c", `(trap '' TERM; sleep 30) & while [ ! -e ${exitNow} ]; do sleep 0.05; done; exit 3`];
    const base = `http://127.0.0.1:${statusPort}`;
    const run = start(LATCHKEY, [
      "--status-addr", `127.0.0.1:${statusPort}`,
      "--ready", `${ready.url}/ready`,
      "--wait", `tcp://127.0.0.1:${depPort}`,
      "--wait-timeout", "60s",
      "--grace", "4s",
      "--", ...app,
    ], { env: cleanEnv() });

    // 1. starting: the gate waits for depPort.
    const startup0 = await until(() => get(`${base}/health/startup`), "status endpoint up");
    expect(startup0.status).toBe(503);
    expect(startup0.body).toMatchObject({ check: "startup", ok: false, status: "starting", phase: "starting", gate: { state: "running" }, app: { pid: null, running: false, restarts: 0 } });
    expect((await get(`${base}/health/liveness`)).status).toBe(200);
    expect((await get(`${base}/health/readiness`)).status).toBe(503);
    expect((await get(`${base}/health`)).status).toBe(503);
    const probeStarting = await latchkey(["health", "--status"], { env: cleanEnv({ LATCHKEY_STATUS_ADDR: `127.0.0.1:${statusPort}` }) });
    expect(probeStarting.code).toBe(1);
    expect(probeStarting.stdout).toMatch(/^unhealthy: http:\/\/127\.0\.0\.1:\d+\/health: status 503/);

    // 2. the dependency comes up: gate passes, app starts, ready.
    const dep = await tcpListen(depPort);
    const startup1 = await until(async () => {
      const r = await get(`${base}/health/startup`);
      return r.status === 200 ? r : undefined;
    }, "startup 200");
    expect(startup1.body).toMatchObject({ ok: true, phase: "running", gate: { state: "passed" }, app: { running: true, restarts: 0, lastExit: null } });
    expect(startup1.body.app.pid).toBeGreaterThan(1);
    expect(startup1.body.gate.checks[0]).toMatchObject({ stage: "wait", name: `tcp://127.0.0.1:${depPort}`, state: "passed" });
    expect(Array.isArray(startup1.body.secrets)).toBe(true);
    const readiness = await get(`${base}/health/readiness`);
    expect(readiness.status).toBe(200);
    expect(readiness.body).toMatchObject({ check: "readiness", ok: true, status: "ready", ready: { ok: true, detail: "status 200" } });
    expect((await get(`${base}/health`)).status).toBe(200);
    expect((await get(`${base}/health/liveness`)).status).toBe(200);
    const env = cleanEnv({ LATCHKEY_STATUS_ADDR: `127.0.0.1:${statusPort}` });
    expect((await latchkey(["health", "--status"], { env })).code).toBe(0);
    expect((await latchkey(["health", "--status", "startup"], { env })).code).toBe(0);

    // 3. the app's own readiness probe fails: readiness and /health say so, liveness does not.
    appReady = 503;
    const notReady = await until(async () => {
      const r = await get(`${base}/health/readiness`);
      return r.status === 503 ? r : undefined;
    }, "readiness 503");
    expect(notReady.body).toMatchObject({ ok: false, status: "not ready", ready: { ok: false, reason: "status", detail: "status 503" } });
    expect((await get(`${base}/health/liveness`)).status).toBe(200);
    expect((await latchkey(["health", "--status", "readiness"], { env })).code).toBe(1);
    expect((await latchkey(["health", "--status", "liveness"], { env })).code).toBe(0);

    // 4. the app exits (code 3): liveness and readiness fail, startup stays done.
    writeFileSync(exitNow, "");
    const live = await until(async () => {
      const r = await get(`${base}/health/liveness`);
      return r.status === 503 ? r : undefined;
    }, "liveness 503 after the app exited");
    expect(live.body).toMatchObject({ ok: false, status: "exited", phase: "exited", app: { running: false, lastExit: { code: 3, exitCode: 3 } } });
    expect((await get(`${base}/health/startup`)).status).toBe(200);
    expect((await get(`${base}/health/readiness`)).status).toBe(503);

    const r = await run.done;
    await dep.close();
    await ready.close();
    expect(r.code).toBe(3);
  });

  it("counts restarts (--restart-on-exit) and shows the last exit", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const run = start(LATCHKEY, ["--status-addr", `127.0.0.1:${port}`, "--restart-on-exit", "--", "sh", "-c", "sleep 0.2; exit 7"], { env: cleanEnv() });
    const r2 = await until(async () => {
      const r = await get(`${base}/health/startup`);
      return r.body?.app?.restarts >= 2 ? r : undefined;
    }, "two restarts", 30_000);
    expect(r2.body.app.lastExit).toMatchObject({ code: 7, signal: null, exitCode: 7 });
    expect(r2.status).toBe(200);
    run.proc.kill("SIGTERM");
    const done = await run.done;
    expect([7, 143]).toContain(done.code);
  });

  it("reports secret freshness per source, never a value (even one quoted in a hook command)", async () => {
    const dir = tmp();
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    const value = "hunter2-status-canary-9f3b";
    writeFileSync(join(secrets, "db_password"), value);
    const port = await freePort();
    const run = start(LATCHKEY, [
      "--secrets-dir", secrets, "--status-addr", `127.0.0.1:${port}`,
      "--pre-start", `sh -c 'test "$DB_PASSWORD" = ${value}'`,
      "--", "sleep", "30",
    ], { env: cleanEnv() });
    const r = await until(async () => {
      const x = await get(`http://127.0.0.1:${port}/health`);
      return x.status === 200 ? x : undefined;
    }, "ready");
    run.proc.kill("SIGTERM");
    await run.done;
    const text = JSON.stringify(r.body);
    expect(text).not.toContain(value);
    expect(r.body.secrets).toEqual([expect.objectContaining({ source: "file", loads: 1, errors: 0, lastError: null })]);
    expect(r.body.gate.checks[0]).toMatchObject({ stage: "pre-start", state: "passed" });
    expect(r.body.gate.checks[0].name).toContain("[redacted]");
  });

  it("answers 404 for unknown paths and 405 for other methods; HEAD works", async () => {
    const port = await freePort();
    const run = start(LATCHKEY, ["--status-addr", `127.0.0.1:${port}`, "--", "sleep", "30"], { env: cleanEnv() });
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await get(`${base}/health`)).status === 200 || undefined, "ready");
    expect((await get(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/health`, { method: "POST" });
    expect(post.status).toBe(405);
    const head = await fetch(`${base}/health/liveness`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    run.proc.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).toBe(143);
  });

  it("a busy address fails before the app starts (71), --status-addr with --exec is refused (64)", async () => {
    const busy = await tcpListen();
    const r = await latchkey(["--status-addr", `127.0.0.1:${busy.port}`, "--", "true"], { env: cleanEnv() });
    await busy.close();
    expect(r.code).toBe(71);
    expect(r.stderr).toMatch(/--status-addr 127\.0\.0\.1:\d+: cannot listen: address already in use/);
    const e = await latchkey(["--exec", "--status-addr", "127.0.0.1:1", "--", "true"], { env: cleanEnv() });
    expect(e.code).toBe(64);
    expect(e.stderr).toMatch(/--status-addr: invalid value '127\.0\.0\.1:1': the status endpoint needs supervise mode/);
    const bad = await latchkey(["--", "true"], { env: cleanEnv({ LATCHKEY_STATUS_ADDR: "localhost" }) });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/LATCHKEY_STATUS_ADDR: invalid value 'localhost': expected HOST:PORT/);
  });
  it("--on-change none: a changed secret is recorded as unapplied, the app keeps running untouched", async () => {
    const port = await freePort();
    const dir = join(tmp(), "secrets");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "db_password"), "status-none-one");
    const run = start(LATCHKEY, ["--status-addr", `127.0.0.1:${port}`, "--secrets-dir", dir, "--on-change", "none", "--debounce", "100ms", "--", "sleep", "30"], { env: cleanEnv() });
    const base = `http://127.0.0.1:${port}`;
    const before = await until(async () => {
      const r = await get(`${base}/health`);
      return r.status === 200 && r.body.app.pid ? r : undefined;
    }, "running");
    expect(before.body.rotation).toMatchObject({ enabled: true, action: "none", unapplied: [], restarts: 0 });
    writeFileSync(join(dir, "db_password"), "status-none-two");
    const after = await until(async () => {
      const r = await get(`${base}/health`);
      return r.body.rotation.unapplied.length > 0 ? r : undefined;
    }, "the change recorded");
    expect(after.body.rotation).toMatchObject({ unapplied: ["DB_PASSWORD"], restarts: 0, signals: 0 });
    expect(after.body.app).toMatchObject({ pid: before.body.app.pid, running: true, restarts: 0 });
    expect(JSON.stringify(after.body)).not.toContain("status-none");
    run.proc.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/secrets changed; action is none.*changed=DB_PASSWORD/);
  });
});
