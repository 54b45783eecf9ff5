/**
 * The Python example (examples/python-app) in a hardened container, the way its README runs
 * it: read-only root, tmpfs /tmp, all capabilities dropped but SETUID/SETGID,
 * no-new-privileges, secrets in a bind-mounted /run/secrets. One container for the file,
 * stopped last with `docker stop`.
 */
import { randomBytes, createHash } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../helpers/paths.ts";
import {
  appGet, docker, dockerAvailable, dockerOk, execPython, HARDENED, health, IMAGES, LABEL,
  uniqueName, useDockerCleanup, waitFor, waitHealth,
} from "./helpers/docker.ts";

const status = dockerAvailable("test/docker/example-app.test.ts");
useDockerCleanup(status.ok);

const PROCS = readFileSync(join(FIXTURES, "..", "docker", "fixtures", "procs.py"), "utf8");
const ORPHANS = readFileSync(join(FIXTURES, "..", "docker", "fixtures", "orphans.py"), "utf8");

interface Proc { pid: number; ppid: number; state: string; comm: string; cmd: string[]; uid: number[]; gid: number[]; groups: number[]; capEff: string; noNewPrivs: string }
interface Index { uid: number; gid: number; groups: number[]; pid: number; secrets: Record<string, { length: number; sha256: string }>; latchkey_settings_seen: string[] }

const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 12);
const secretsDir = mkdtempSync(join(tmpdir(), "lk-docker-secrets-"));
const values = { db: `db-${randomBytes(9).toString("hex")}`, api: `api-${randomBytes(9).toString("hex")}` };
/** Replace a secret file atomically, as an orchestrator or `install` would. */
function writeSecret(name: string, value: string): void {
  writeFileSync(join(secretsDir, `.${name}.tmp`), `${value}\n`, { mode: 0o600 });
  renameSync(join(secretsDir, `.${name}.tmp`), join(secretsDir, name));
}
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

const name = uniqueName("app");
let startedAt = 0;
let firstHealth = "";

describe.skipIf(!status.ok)("example app, hardened (read-only, cap-drop, no-new-privileges)", () => {
  beforeAll(async () => {
    writeSecret("db-password", values.db);
    writeSecret("api-key", values.api);
    startedAt = Date.now();
    await dockerOk(["run", "-d", "--name", name, "--label", LABEL, ...HARDENED,
      "-v", `${secretsDir}:/run/secrets:ro`,
      // Quick health checks for the test; the image's own are every 10 s.
      "--health-interval", "1s", "--health-timeout", "3s", "--health-retries", "2", "--health-start-period", "60s",
      "-e", "LATCHKEY_LOG_FORMAT=text", "-e", "LATCHKEY_DEBOUNCE=300ms",
      IMAGES.app]);
    firstHealth = await health(name);
  }, 120_000);

  it("HEALTHCHECK (latchkey health) goes starting → healthy", async () => {
    expect(firstHealth).toBe("starting");
    await waitHealth(name, "healthy", 60_000);
    console.log(`example app: docker run → healthy in ${Date.now() - startedAt} ms`);
  });

  it("runs the app as uid 1001 with its groups, its secrets loaded, latchkey's settings scrubbed", async () => {
    const r = await appGet<Index>(name, "/");
    expect(r.status).toBe(200);
    expect(r.body.uid).toBe(1001);
    expect(r.body.gid).toBe(1001);
    expect(r.body.groups).toEqual([1001, 1002]);
    expect(r.body.secrets).toEqual({
      DB_PASSWORD: { length: values.db.length, sha256: fp(values.db) },
      API_KEY: { length: values.api.length, sha256: fp(values.api) },
    });
    expect(r.body.latchkey_settings_seen).toEqual([]);
    for (const path of ["/health", "/health/liveness", "/health/readiness", "/health/startup"]) {
      expect((await appGet(name, path)).status, path).toBe(200);
    }
  });

  it("PID 1 is latchkey with only SETUID and SETGID; the app has no capabilities; no-new-privileges everywhere", async () => {
    const procs = await execPython<Proc[]>(name, PROCS);
    const init = procs.find((p) => p.pid === 1)!;
    expect(init.cmd[0]).toBe("latchkey");
    // Without CAP_KILL latchkey takes the app's uid as its effective uid only for each signal
    // it sends (docs/readme/docker.md, Hardened runs): between signals every uid is root's, so
    // the app cannot signal latchkey.
    expect(init.uid).toEqual([0, 0, 0, 0]);
    // CAP_SETGID (6), CAP_SETUID (7).
    expect(BigInt(`0x${init.capEff}`)).toBe((1n << 6n) | (1n << 7n));
    const app = procs.filter((p) => p.comm.startsWith("gunicorn"));
    expect(app.length).toBeGreaterThanOrEqual(2); // master + workers
    for (const p of app) {
      expect(p.uid).toEqual([1001, 1001, 1001, 1001]);
      expect(p.groups).toEqual([1001, 1002]);
      expect(BigInt(`0x${p.capEff}`)).toBe(0n);
    }
    // runc's init stage of a concurrent `docker exec` (the HEALTHCHECK's probe) belongs to
    // Docker, not to the image: it sets no_new_privs itself just before it execs the probe.
    for (const p of procs.filter((q) => !q.comm.startsWith("runc:"))) expect(p.noNewPrivs, p.comm).toBe("1");
  });

  it("has a read-only root and a writable tmpfs", async () => {
    const ro = await docker(["exec", "-u", "1001", name, "python3", "-c", "open('/app/written', 'w')"]);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("Read-only file system");
    const rw = await docker(["exec", "-u", "1001", name, "python3", "-c", "open('/tmp/written', 'w').write('x')"]);
    expect(rw.code).toBe(0);
  });

  it("reaps orphans re-parented to PID 1 (no zombies left)", async () => {
    const n = 20;
    // The orphans linger 3 s after their parents exit: long enough to see them under PID 1.
    const spawned = await execPython<{ spawned: number }>(name, ORPHANS, { args: [String(n), "3"] });
    expect(spawned.spawned).toBe(n);
    const seen = await waitFor("orphans under PID 1", 10_000, async () => {
      const procs = await execPython<Proc[]>(name, PROCS);
      const orphans = procs.filter((p) => p.ppid === 1 && p.comm.startsWith("python3"));
      return orphans.length > 0 ? orphans.length : undefined;
    }, 50);
    // Usually all n at once; under heavy load some may already be gone, which is fine.
    expect(seen).toBeGreaterThan(0);
    await waitFor("no zombies", 10_000, async () => {
      const procs = await execPython<Proc[]>(name, PROCS);
      return procs.some((p) => p.state === "Z") ? undefined : true;
    });
  });

  it("HEALTHCHECK goes unhealthy when the app's /health fails, and healthy again", async () => {
    await dockerOk(["exec", name, "touch", "/tmp/app-unhealthy"]);
    expect((await appGet(name, "/health")).status).toBe(503);
    await waitHealth(name, "unhealthy", 30_000);
    await dockerOk(["exec", name, "rm", "/tmp/app-unhealthy"]);
    await waitHealth(name, "healthy", 30_000);
  });

  it("restarts the app with the new value when a bind-mounted secret file changes", async () => {
    const before = await appGet<Index>(name, "/");
    values.db = `db-${randomBytes(9).toString("hex")}`;
    writeSecret("db-password", values.db);
    const after = await waitFor("the app to see the new secret", 30_000, async () => {
      const r = await appGet<Index>(name, "/");
      return r.body.secrets.DB_PASSWORD?.sha256 === fp(values.db) ? r.body : undefined;
    });
    expect(after.secrets.API_KEY).toEqual(before.body.secrets.API_KEY);
    // A new app process (restart), under the same latchkey.
    expect(after.pid).not.toBe(before.body.pid);
    const procs = await execPython<Proc[]>(name, PROCS);
    expect(procs.find((p) => p.pid === 1)!.cmd[0]).toBe("latchkey");
  });

  it("docker stop is graceful: the app's own exit code (0), not 137, well within the timeout", async () => {
    const t0 = performance.now();
    await dockerOk(["stop", "-t", "10", name]);
    const ms = performance.now() - t0;
    console.log(`example app: docker stop -t 10 took ${ms.toFixed(0)} ms`);
    const state = JSON.parse(await dockerOk(["inspect", "-f", "{{json .State}}", name])) as { ExitCode: number; OOMKilled: boolean };
    expect(state.ExitCode).toBe(0);
    expect(ms).toBeLessThan(8_000); // SIGKILL would come at 10 s
    const logs = await docker(["logs", name]);
    expect(logs.stdout + logs.stderr).toContain("Handling signal: term");
    // Secrets never reach the logs.
    expect(logs.stdout + logs.stderr).not.toContain(values.db);
    expect(logs.stdout + logs.stderr).not.toContain(values.api);
  });
});
