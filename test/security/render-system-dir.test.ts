/**
 * `--render /` (or a template whose file lies directly in `/`) was accepted: the file-set
 * writer would put `/..data` and one link per secret into the machine's root directory (and
 * `--render /etc` into /etc). `/` and the top-level system directories are refused (64 as a flag,
 * 78 from the environment or the config file) when the configuration is read, before anything is loaded or written.
 *
 * The refusal is tested without ever letting the old code write: every run either is `check`
 * (which never renders) or has a pre-start hook that fails (the gate runs before the first
 * render), so the old code's answer is 0 or the hook's failure, never a write into `/`.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const dirs = ["/", "//", "/etc", "/etc/", "/usr", "/usr/../", "/bin", "/sbin", "/lib", "/lib64", "/proc", "/sys", "/dev", "/boot"];

function env() {
  const d = tempDir("latchkey-render-sysdir-");
  return { d, env: { PATH, HOME: d, SECRET_X: "not-a-secret-value" } };
}

describe("--render and templates refuse / and the top-level system directories (64/78)", () => {
  it.each(dirs)("--render %s", async (dir) => {
    const { env: e } = env();
    const r = await latchkey(["--render", dir, "--pre-start", "false", "--", "true"], { env: e });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/--render.*system directory/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync("/..data")).toBe(false);
  });

  it("LATCHKEY_RENDER=/ (78), and check --render / (64) fail too", async () => {
    const { env: e } = env();
    const r = await latchkey(["--pre-start", "false", "--", "true"], { env: { ...e, LATCHKEY_RENDER: "/" } });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/LATCHKEY_RENDER.*system directory/);
    const c = await latchkey(["check", "--render", "/"], { env: e });
    expect(c.code, c.stdout + c.stderr).toBe(64);
  });

  it.each(["/x.conf", "/etc/app.conf", "//x.conf"])("--template SRC=%s", async (dest) => {
    const { d, env: e } = env();
    const src = join(d, "t.liquid");
    writeFileSync(src, "x\n");
    const r = await latchkey(["--template", `${src}=${dest}`, "--pre-start", "false", "--", "true"], { env: e });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/system directory/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a directory below them is still fine (check --render /etc/app, --template into /etc/app/)", async () => {
    const { d, env: e } = env();
    const src = join(d, "t.liquid");
    writeFileSync(src, "x\n");
    const r = await latchkey(["check", "--render", "/etc/app", "--template", `${src}=/etc/app/x.conf`], { env: e });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
