/** SSH secrets land in the app user's ~/.ssh with OpenSSH's modes, owned by the --user identity. */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync, chownSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { FX, SSH_KEY } from "../../fixtures/secret-values.ts";
import { cleanEnv, probe, readProbe, workspace, writeFiles } from "./fixtures.ts";

const ws = workspace("ssh");
const root = process.getuid!() === 0;
const files = { ssh_id_ed25519: SSH_KEY, ssh_known_hosts: "github.com ssh-ed25519 AAAAC3Nza\n", ssh_config: "Host *\n  StrictHostKeyChecking yes\n", "db-password": FX.dbPassword };

describe("SSH secrets", () => {
  it("installed after the privilege drop's identity: dir 0700, key/config 0600, known_hosts 0644, owned by the app user", async () => {
    if (!root) {
      console.log("skipped: installing for another user needs root (this run is uid %d)", process.getuid!());
      return;
    }
    const dir = writeFiles(ws.path("s"), files);
    const home = ws.path("home");
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, 65534, 65534);
    const ssh = join(home, ".ssh");
    const out = ws.path("out", "env");
    const sum = ws.path("out", "sum");
    probe(out); // creates the world-writable out dir
    const r = await latchkey(["--user", "65534:65534", "--secrets-dir", dir, "--ssh-dir", ssh, "--",
      "/bin/sh", "-c", `sha256sum < ${ssh}/id_ed25519 > ${sum}; id -u >> ${sum}; env -0 > "$0"`, out], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
    expect(mode(ssh)).toBe("700");
    expect(mode(join(ssh, "id_ed25519"))).toBe("600");
    expect(mode(join(ssh, "config"))).toBe("600");
    expect(mode(join(ssh, "known_hosts"))).toBe("644");
    for (const p of [ssh, join(ssh, "id_ed25519"), join(ssh, "config"), join(ssh, "known_hosts")]) {
      expect([statSync(p).uid, statSync(p).gid]).toEqual([65534, 65534]);
    }
    expect(readFileSync(join(ssh, "id_ed25519"), "utf8")).toBe(SSH_KEY);
    const [hash, uid] = readFileSync(sum, "utf8").trim().split("\n");
    expect(hash!.split(" ")[0]).toBe(createHash("sha256").update(SSH_KEY).digest("hex"));
    expect(uid).toBe("65534");
    const env = readProbe(out)!;
    expect(env.DB_PASSWORD).toBe(FX.dbPassword);
    expect(Object.keys(env).filter((k) => k.startsWith("SSH_"))).toEqual([]);

    // A restart replaces what latchkey installed (a rotated key)...
    writeFileSync(join(dir, "ssh_id_ed25519"), SSH_KEY.replace("PRIVATE KEY-----\n", "PRIVATE KEY-----\nrotated\n"));
    expect((await latchkey(["--user", "65534:65534", "--secrets-dir", dir, "--ssh-dir", ssh, "--", "true"], { env: cleanEnv() })).code).toBe(0);
    expect(readFileSync(join(ssh, "id_ed25519"), "utf8")).toContain("rotated");
  });

  it("are in place before the startup gate's pre-start hooks run (as the app user)", async () => {
    if (!root) {
      console.log("skipped: installing for another user needs root (this run is uid %d)", process.getuid!());
      return;
    }
    const dir = writeFiles(ws.path("s3"), { ssh_id_ed25519: SSH_KEY });
    const ssh = ws.path("hook-home", ".ssh");
    const r = await latchkey(["--user", "65534:65534", "--secrets-dir", dir, "--ssh-dir", ssh,
      "--pre-start", `sh -c 'test -r ${ssh}/id_ed25519 && test "$(id -u)" = 65534'`, "--", "true"], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
  });

  it("a missing home is an error before anything starts, in check and in a real start (never created)", async () => {
    const dir = writeFiles(ws.path("s4"), { ssh_id_ed25519: SSH_KEY });
    const home = ws.path("no-such-home");
    const o = ws.path("out", "nohome");
    const real = await latchkey(["--secrets-dir", dir, "--", ...probe(o)], { env: cleanEnv({ HOME: home }) });
    const dry = await latchkey(["check", "--secrets-dir", dir], { env: cleanEnv({ HOME: home }) });
    for (const r of [real, dry]) {
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`cannot install SSH secrets: home directory ${home} does not exist (set --ssh-dir, or --ssh none)`);
    }
    expect(readProbe(o)).toBeNull();
    const { existsSync } = await import("node:fs");
    expect(existsSync(home)).toBe(false);
  });

  it("never overwrites a file it did not install (a developer's own key)", async () => {
    const dir = writeFiles(ws.path("s2"), { ssh_id_rsa: SSH_KEY });
    const ssh = ws.path("dev", ".ssh");
    writeFiles(ssh, { id_rsa: "my own key\n" });
    const o = ws.path("out", "dev");
    const r = await latchkey(["--secrets-dir", dir, "--ssh-dir", ssh, "--", ...probe(o)], { env: cleanEnv() });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain(`${ssh}/id_rsa exists and was not installed by latchkey; refusing to replace it`);
    expect(readFileSync(join(ssh, "id_rsa"), "utf8")).toBe("my own key\n");
    expect(readProbe(o)).toBeNull();
    const off = await latchkey(["--secrets-dir", dir, "--ssh", "none", "--", ...probe(o)], { env: cleanEnv() });
    expect(off.code, off.stderr).toBe(0);
    expect(readProbe(o)!.SSH_ID_RSA).toBe(SSH_KEY.slice(0, -1));
  });
});
