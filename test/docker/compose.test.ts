/**
 * examples/compose with Compose v1 (docker-compose 1.29): file secrets reach the app through
 * latchkey, and the settings of the file (limits, reservations, restart, logging, hardening,
 * networks, volume) are what the running container has.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.ts";
import { freePort } from "../servers/ports.ts";
import { run, type RunResult } from "../helpers/run.ts";
import { appGet, docker, dockerAvailable, dockerOk, IMAGES, RUN_ID, useDaemonModeShared, waitHealth } from "./helpers/docker.ts";

const status = dockerAvailable("test/docker/compose.test.ts");
useDaemonModeShared(status.ok);
const dir = join(ROOT, "examples", "compose");
const project = `lkcompose${RUN_ID.replace(/[^a-z0-9]/g, "")}`;
const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 12);
let port = 0;

function compose(file: string, args: string[]): Promise<RunResult> {
  return run("docker-compose", ["-p", project, "-f", join(dir, file), ...args], {
    timeoutMs: 300_000, cwd: dir,
    env: { ...process.env, APP_PORT: String(port), APP_IMAGE: IMAGES.app, LATCHKEY_IMAGE: IMAGES.latchkey },
  });
}

describe.skipIf(!status.ok)("examples/compose with docker-compose v1", () => {
  let container = "";
  beforeAll(async () => {
    port = await freePort();
    const up = await compose("docker-compose.yml", ["--compatibility", "up", "-d", "--no-build"]);
    if (up.code !== 0) throw new Error(`docker-compose up failed: ${up.stderr.slice(-3000)}`);
    container = (await compose("docker-compose.yml", ["ps", "-q", "app"])).stdout.trim();
    expect(container).toMatch(/^[0-9a-f]{12,}$/);
  }, 300_000);
  afterAll(async () => {
    if (!status.ok) return;
    for (const f of ["docker-compose.yml", "docker-compose.dev.yml"]) {
      await compose(f, ["down", "-v", "--remove-orphans", "-t", "5"]);
    }
  }, 120_000);

  it("the compose files are valid (and the Vault AppRole one in examples/vault)", async () => {
    for (const f of ["docker-compose.yml", "docker-compose.dev.yml", "../vault/docker-compose.approle.yml"]) {
      const r = await compose(f, ["config", "-q"]);
      expect(r.stderr, f).toBe("");
      expect(r.code, f).toBe(0);
    }
  });

  it("becomes healthy; the app gets the file secrets as DB_PASSWORD and API_KEY", async () => {
    await waitHealth(container, "healthy", 90_000);
    const r = await appGet<{ uid: number; secrets: Record<string, { sha256: string }> }>(container, "/");
    const file = (n: string) => readFileSync(join(dir, "secrets", n), "utf8").replace(/\n$/, "");
    expect(r.body.uid).toBe(1001);
    expect(r.body.secrets.DB_PASSWORD?.sha256).toBe(fp(file("db-password.txt")));
    expect(r.body.secrets.API_KEY?.sha256).toBe(fp(file("api-key.txt")));
    // latchkey's own status endpoint answers too (`latchkey health --status`).
    const own = await docker(["exec", container, "latchkey", "health", "--status", "readiness"]);
    expect(own.code).toBe(0);
  });

  it("mounts the secrets read-only and applies limits, reservations, restart, logging, hardening", async () => {
    const info = JSON.parse(await dockerOk(["inspect", container]))[0] as {
      HostConfig: { Memory: number; MemoryReservation: number; NanoCpus: number; RestartPolicy: { Name: string };
        LogConfig: { Type: string; Config: Record<string, string> }; ReadonlyRootfs: boolean; CapDrop: string[];
        CapAdd: string[]; SecurityOpt: string[]; Tmpfs: Record<string, string> };
      Mounts: Array<{ Destination: string; RW: boolean; Type: string; Name?: string }>;
      NetworkSettings: { Networks: Record<string, unknown> };
    };
    const h = info.HostConfig;
    expect(h.Memory).toBe(256 * 2 ** 20);
    expect(h.MemoryReservation).toBe(96 * 2 ** 20);
    expect(h.NanoCpus).toBe(1e9);
    expect(h.RestartPolicy.Name).toBe("unless-stopped");
    expect(h.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } });
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.CapDrop).toEqual(["ALL"]);
    expect([...h.CapAdd].sort()).toEqual(["SETGID", "SETUID"]);
    expect(h.SecurityOpt).toContain("no-new-privileges:true");
    expect(Object.keys(h.Tmpfs)).toEqual(["/tmp"]);
    const secrets = info.Mounts.filter((m) => m.Destination.startsWith("/run/secrets/"));
    expect(secrets.map((m) => m.Destination).sort()).toEqual(["/run/secrets/api-key", "/run/secrets/db-password"]);
    for (const m of secrets) expect(m.RW).toBe(false);
    expect(info.Mounts.find((m) => m.Destination === "/var/lib/app")).toMatchObject({ Type: "volume", RW: true, Name: `${project}_app-data` });
    expect(Object.keys(info.NetworkSettings.Networks).sort()).toEqual([`${project}_backend`, `${project}_frontend`]);
    // The volume is the app's: group app-data (a supplementary group latchkey gives it), setgid dir.
    const w = await docker(["exec", "-u", "1001", container, "sh", "-c", "touch /var/lib/app/ok && stat -c %G /var/lib/app/ok"]);
    expect(w.stdout.trim()).toBe("app-data");
  });

  it("docker-compose stop is graceful (exit 0)", async () => {
    const t0 = performance.now();
    const r = await compose("docker-compose.yml", ["stop", "-t", "10"]);
    expect(r.code).toBe(0);
    const ms = performance.now() - t0;
    console.log(`compose: docker-compose stop took ${ms.toFixed(0)} ms`);
    expect(await dockerOk(["inspect", "-f", "{{.State.ExitCode}}", container])).toBe("0");
  });
});
