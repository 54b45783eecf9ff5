/**
 * examples/swarm/stack.yml on a single-node swarm (127.0.0.1): Swarm secrets root-only at
 * /run/secrets reach the app's environment through latchkey, and rotation by secret
 * replacement (redeploy pointing at the next secret version) gives every task the new value.
 * The swarm is created for the test and left again, unless one was already there.
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.ts";
import { appGet, DAEMON_MODE_LOCK, docker, dockerAvailable, dockerOk, IMAGES, LABEL, machineLock, RUN_ID, waitFor } from "./helpers/docker.ts";

const status = dockerAvailable("test/docker/swarm.test.ts");
const stack = `lkswarm${RUN_ID.replace(/[^a-z0-9]/g, "").slice(-10)}`;
const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 12);
const secretName = (what: string, v: number) => `${stack}-${what}-v${v}`;
const values = {
  db1: `db-${randomBytes(9).toString("hex")}`, db2: `db-${randomBytes(9).toString("hex")}`, db3: `db-${randomBytes(9).toString("hex")}`,
  api: `api-${randomBytes(9).toString("hex")}`,
};
let createdSwarm = false;
let unlock: (() => void) | null = null;

async function deploy(dbVersion: number): Promise<void> {
  await dockerOk(["stack", "deploy", "--resolve-image", "never", "-c", join(ROOT, "examples", "swarm", "stack.yml"), stack], {
    env: { APP_IMAGE: IMAGES.app, DB_PASSWORD_SECRET: secretName("db-password", dbVersion), API_KEY_SECRET: secretName("api-key", 1) },
  });
}

async function createSecret(name: string, value: string): Promise<void> {
  await dockerOk(["secret", "create", "--label", LABEL, name, "-"], { input: value });
}

/** Running containers of the stack's app service. */
async function containers(): Promise<string[]> {
  const out = await dockerOk(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${stack}_app`]);
  return out.split(/\s+/).filter(Boolean);
}

describe.skipIf(!status.ok)("examples/swarm/stack.yml on a single-node swarm", () => {
  beforeAll(async () => {
    // Alone on the daemon: another run may be using (and about to leave) the swarm, and swarm
    // init/leave must not overlap the creation of any other test's containers.
    unlock = await machineLock(DAEMON_MODE_LOCK);
    const state = await dockerOk(["info", "-f", "{{.Swarm.LocalNodeState}}"]);
    if (state !== "active") {
      await dockerOk(["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"]);
      createdSwarm = true;
    }
    await createSecret(secretName("db-password", 1), values.db1);
    await createSecret(secretName("db-password", 2), values.db2);
    await createSecret(secretName("db-password", 3), values.db3);
    await createSecret(secretName("api-key", 1), values.api);
  }, 720_000);

  afterAll(async () => {
    if (!status.ok) return;
    await docker(["stack", "rm", stack]);
    // Tasks stop asynchronously; a secret in use cannot be removed yet.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const left = (await docker(["secret", "ls", "-q", "--filter", `label=${LABEL}`])).stdout.split(/\s+/).filter(Boolean);
      if (left.length === 0) break;
      await docker(["secret", "rm", ...left]);
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (createdSwarm) {
      await docker(["swarm", "leave", "--force"]);
      // swarm init made this bridge for the node; leaving does not remove it.
      await docker(["network", "rm", "docker_gwbridge"]);
    }
    unlock?.();
  }, 120_000);

  it("each task's app gets the Swarm secrets (root-only files) in its environment, as uid 1001", async () => {
    await deploy(1);
    const running = await waitFor("2 healthy tasks", 120_000, async () => {
      const ids = await containers();
      if (ids.length !== 2) return undefined;
      for (const id of ids) {
        if ((await dockerOk(["inspect", "-f", "{{.State.Health.Status}}", id])) !== "healthy") return undefined;
      }
      return ids;
    }, 1000);
    for (const id of running) {
      const r = await appGet<{ uid: number; secrets: Record<string, { sha256: string }> }>(id, "/");
      expect(r.body.uid).toBe(1001);
      expect(r.body.secrets.DB_PASSWORD?.sha256).toBe(fp(values.db1));
      expect(r.body.secrets.API_KEY?.sha256).toBe(fp(values.api));
      // The files are root's, mode 0400: the app itself cannot read them.
      const ls = await dockerOk(["exec", id, "stat", "-c", "%u %g %a", "/run/secrets/db-password"]);
      expect(ls).toBe("0 0 400");
      // The stack's hardening reaches the tasks: only SETUID and SETGID, read-only root.
      const host = JSON.parse(await dockerOk(["inspect", "-f", "{{json .HostConfig}}", id])) as { CapAdd: string[]; CapDrop: string[]; ReadonlyRootfs: boolean };
      expect([...host.CapAdd].sort()).toEqual(["CAP_SETGID", "CAP_SETUID"]);
      expect(host.CapDrop).toEqual(["ALL"]);
      expect(host.ReadonlyRootfs).toBe(true);
      const read = await docker(["exec", "-u", "1001", id, "cat", "/run/secrets/db-password"]);
      expect(read.code).not.toBe(0);
      expect(read.stderr).toContain("Permission denied");
    }
  }, 180_000);

  /** Wait until the service runs 2 containers none of which existed before, all with `value`. */
  async function rotated(before: Set<string>, value: string): Promise<string[]> {
    return waitFor("2 new healthy tasks with the new secret", 180_000, async () => {
      const ids = await containers();
      if (ids.length !== 2 || ids.some((id) => before.has(id))) return undefined;
      for (const id of ids) {
        const r = await appGet<{ secrets: Record<string, { sha256: string }> }>(id, "/");
        if (r.body.secrets.DB_PASSWORD?.sha256 !== fp(value)) return undefined;
      }
      return ids;
    }, 1000);
  }

  it("rotation with docker service update --secret-rm/--secret-add: every task gets the new value", async () => {
    const before = new Set(await containers());
    await dockerOk(["service", "update", "--detach",
      "--secret-rm", secretName("db-password", 1),
      "--secret-add", `source=${secretName("db-password", 2)},target=db-password,uid=0,gid=0,mode=0400`,
      `${stack}_app`], { timeoutMs: 180_000 });
    expect(await rotated(before, values.db2)).toHaveLength(2);
    // The old tasks stopped gracefully: exit code 0 from the app, not 137.
    const codes = await docker(["ps", "-a", "--filter", `label=com.docker.swarm.service.name=${stack}_app`, "--filter", "status=exited", "--format", "{{.Status}}"]);
    expect(codes.stdout).toMatch(/Exited \(0\)/);
    expect(codes.stdout).not.toMatch(/Exited \(137\)/);
  }, 240_000);

  it("rotation by redeploying the stack pointed at the next secret version (the stack file's way)", async () => {
    const before = new Set(await containers());
    await deploy(3);
    expect(await rotated(before, values.db3)).toHaveLength(2);
  }, 240_000);
});
