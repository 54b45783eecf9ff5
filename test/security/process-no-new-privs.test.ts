/**
 * --no-new-privileges: the app starts with no_new_privs, so a setuid-root program it runs
 * (sudo, su, ping; here a setuid-root copy of `id`) no longer elevates. Without the flag the
 * same copy does show euid 0, which proves the copy works. In every mode: supervise through
 * posix_spawn (latchkey as uid 65534, no --user), through the exec shim (--user), and --exec.
 */
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { run } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";
import { AS_NOBODY } from "./process-helpers.ts";

const dir = tempDir();
const suidId = join(dir, "id");
copyFileSync("/usr/bin/id", suidId);
chmodSync(suidId, 0o4755); // owned by root (the suite runs as root): a setuid-root id

const APP = `grep NoNewPrivs /proc/self/status; echo "euid=$(${suidId} -u)"`;

describe.each([
  ["supervise, latchkey as uid 65534 (posix_spawn)", [...AS_NOBODY, LATCHKEY]],
  ["supervise --user nobody (exec shim)", [LATCHKEY, "--user", "nobody"]],
  ["--exec --user nobody", [LATCHKEY, "--exec", "--user", "nobody"]],
  ["--exec, latchkey as uid 65534", [...AS_NOBODY, LATCHKEY, "--exec"]],
])("%s", (_, latchkey) => {
  const go = (flags: string[], env: Record<string, string> = {}) =>
    run(latchkey[0]!, [...latchkey.slice(1), ...flags, "--", "sh", "-c", APP], { env: { PATH: process.env.PATH!, HOME: dir, ...env } });

  it("without the flag the setuid-root copy of id runs with euid 0", async () => {
    const r = await go([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NoNewPrivs:\s+0$/m);
    expect(r.stdout).toContain("euid=0\n");
  });

  it("--no-new-privileges: NoNewPrivs 1, and the setuid bit no longer elevates", async () => {
    const r = await go(["--no-new-privileges"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(r.stdout).toContain("euid=65534\n");
  });

  it("LATCHKEY_NO_NEW_PRIVILEGES=1 does the same", async () => {
    const r = await go([], { LATCHKEY_NO_NEW_PRIVILEGES: "1" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(r.stdout).toContain("euid=65534\n");
  });
});
