/**
 * examples/compose/docker-compose.dev.yml, run: plain files as secrets and the source mounted.
 * Editing a file in dev-secrets restarts the app with the new value. The example tree is
 * copied to a temporary directory first, so the test edits copies, never the repository's.
 */
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.ts";
import { run, type RunResult } from "../helpers/run.ts";
import { appGet, docker, dockerAvailable, IMAGES, RUN_ID, useDaemonModeShared, waitFor } from "./helpers/docker.ts";

const status = dockerAvailable("test/docker/compose-dev.test.ts");
useDaemonModeShared(status.ok);
const project = `lkdev${RUN_ID.replace(/[^a-z0-9]/g, "")}`;
const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 12);
const tree = mkdtempSync(join(tmpdir(), "latchkey-compose-dev-"));
const dir = join(tree, "compose");

function compose(args: string[]): Promise<RunResult> {
  return run("docker-compose", ["-p", project, "-f", join(dir, "docker-compose.dev.yml"), ...args], {
    timeoutMs: 300_000, cwd: dir,
    // Port 0: Docker picks a free one (nothing else on this machine is disturbed).
    env: { ...process.env, APP_PORT: "0", APP_IMAGE: IMAGES.app, LATCHKEY_IMAGE: IMAGES.latchkey },
  });
}

interface Index { pid: number; secrets: Record<string, { sha256: string }> }

describe.skipIf(!status.ok)("examples/compose/docker-compose.dev.yml, running", () => {
  let container = "";
  beforeAll(async () => {
    cpSync(join(ROOT, "examples", "compose"), dir, { recursive: true });
    cpSync(join(ROOT, "examples", "python-app"), join(tree, "python-app"), { recursive: true });
    const up = await compose(["up", "-d", "--no-build"]);
    if (up.code !== 0) throw new Error(`docker-compose up failed: ${up.stderr.slice(-3000)}`);
    container = (await compose(["ps", "-q", "app"])).stdout.trim();
    expect(container).toMatch(/^[0-9a-f]{12,}$/);
  }, 300_000);
  afterAll(async () => {
    if (status.ok) await compose(["down", "-v", "--remove-orphans", "-t", "5"]);
    rmSync(tree, { recursive: true, force: true });
  }, 120_000);

  it("the app gets the plain dev files as secrets; editing one restarts it with the new value", async () => {
    const file = (n: string) => readFileSync(join(dir, "dev-secrets", n), "utf8").replace(/\n$/, "");
    const before = await waitFor("the app to answer", 90_000, async () => {
      const r = await appGet<Index>(container, "/");
      return r.status === 200 ? r.body : undefined;
    });
    expect(before.secrets.DB_PASSWORD?.sha256).toBe(fp(file("db-password")));
    expect(before.secrets.API_KEY?.sha256).toBe(fp(file("api-key")));
    const fresh = `dev-${randomBytes(8).toString("hex")}`;
    writeFileSync(join(dir, "dev-secrets", "db-password"), `${fresh}\n`);
    const after = await waitFor("the app to see the edited secret", 60_000, async () => {
      const r = await appGet<Index>(container, "/");
      return r.body.secrets.DB_PASSWORD?.sha256 === fp(fresh) ? r.body : undefined;
    });
    expect(after.pid).not.toBe(before.pid); // restarted by latchkey (LATCHKEY_ON_CHANGE=restart)
    expect(after.secrets.API_KEY).toEqual(before.secrets.API_KEY);
    const logs = await docker(["logs", container]);
    expect(logs.stdout + logs.stderr).toMatch(/secrets changed.*DB_PASSWORD/);
    expect(logs.stdout + logs.stderr).not.toContain(fresh);
  });
});
