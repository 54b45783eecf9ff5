/**
 * Exit status of the container (`docker run …; echo $?`) with latchkey as the entrypoint of
 * the example image, in supervise mode (default) and exec mode (LATCHKEY_EXEC=1).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { docker, dockerAvailable, HARDENED, IMAGES, LABEL, useDockerCleanup } from "./helpers/docker.ts";

const status = dockerAvailable("test/docker/exit-codes.test.ts");
useDockerCleanup(status.ok);

const secrets = mkdtempSync(join(tmpdir(), "lk-docker-exit-"));
writeFileSync(join(secrets, "db-password"), `${randomBytes(8).toString("hex")}\n`, { mode: 0o600 });
writeFileSync(join(secrets, "api-key"), `${randomBytes(8).toString("hex")}\n`, { mode: 0o600 });
afterAll(() => rmSync(secrets, { recursive: true, force: true }));

function runApp(command: string[], opts: { env?: string[]; secrets?: boolean; caps?: string[] } = {}) {
  return docker(["run", "--rm", "--label", LABEL, ...(opts.caps ?? HARDENED),
    ...(opts.secrets === false ? [] : ["-v", `${secrets}:/run/secrets:ro`]),
    ...(opts.env ?? []).flatMap((e) => ["-e", e]), IMAGES.app, ...command]);
}

const modes = [
  { mode: "supervise", env: [] as string[] },
  { mode: "exec", env: ["LATCHKEY_EXEC=1"] },
];

describe.skipIf(!status.ok)("container exit status", () => {
  for (const { mode, env } of modes) {
    describe(mode, () => {
      it("passes the app's exit code through (42)", async () => {
        const r = await runApp(["sh", "-c", "exit 42"], { env });
        expect(r.code).toBe(42);
      });

      it("127 for a command that does not exist, 126 for one that is not executable, with one line", async () => {
        const missing = await runApp(["no-such-command"], { env });
        expect(missing.code).toBe(127);
        expect(missing.stderr.trim().split("\n")).toHaveLength(1);
        expect(missing.stderr).toContain("no-such-command");
        const notExec = await runApp(["/etc/passwd"], { env });
        expect(notExec.code).toBe(126);
      });

      it("66 before the app starts when a required secret is missing, naming it", async () => {
        const r = await runApp(["sh", "-c", "echo app-started"], { env, secrets: false });
        expect(r.code).toBe(66);
        expect(r.stdout).not.toContain("app-started");
        expect(r.stderr).toMatch(/DB_PASSWORD|API_KEY/);
      });

      it("77 when the container lacks CAP_SETUID/CAP_SETGID for the drop to `app`, naming them", async () => {
        const r = await runApp(["sh", "-c", "echo app-started"], { env, caps: ["--cap-drop", "ALL"] });
        expect(r.code).toBe(77);
        expect(r.stdout).not.toContain("app-started");
        expect(r.stderr).toContain("CAP_SETUID");
      });
    });
  }

  it("supervise: the app killed by a signal → 128+n (143 for SIGTERM)", async () => {
    // Not in exec mode: there the app is PID 1, and the kernel drops signals PID 1 sends itself.
    const r = await runApp(["sh", "-c", "kill -TERM $$; sleep 5"]);
    expect(r.code).toBe(143);
  });

  it("67 for an unknown --user, before anything starts", async () => {
    const r = await runApp(["sh", "-c", "echo app-started"], { env: ["LATCHKEY_USER=nobody-here"] });
    expect(r.code).toBe(67);
    expect(r.stderr).toContain("nobody-here");
  });
});
