/**
 * Finding 9: an empty --user (flag, env, config file, or `--user "$APP_USER"` with the variable
 * unset) must not mean "stay root"; a misspelt LATCHKEY_* variable must not go unnoticed.
 * Finding 18: --user naming the user latchkey already is, with other groups, says so in one line.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { latchkey, run } from "../helpers/run.ts";
import { env, lines, tempRoot } from "./inputs-fixtures.ts";

const t = tempRoot("user");
let n = 0;
const marker = (): string => t.path(`ran-${n++}`);
const app = (m: string): string[] => ["/bin/sh", "-c", 'id -u > "$0"', m];

describe("finding 9: an empty --user is a usage error, never root", () => {
  const cfg = t.path("user.yaml");
  writeFileSync(cfg, 'user: ""\n');
  it.each([
    ["--user ''", ["--user", ""], {}, /--user/],
    ["--user= (empty)", ["--user="], {}, /--user/],
    ["-u ''", ["-u", ""], {}, /--user/],
    ["LATCHKEY_USER=''", [], { LATCHKEY_USER: "" }, /LATCHKEY_USER/],
    ["config user: \"\"", ["--config", cfg], {}, /user\.yaml: user/],
  ])("%s → 64, one line naming where it was set, the app never runs", async (_name, flags, extra, names) => {
    for (const mode of [[], ["--exec"]]) {
      const m = marker();
      const r = await latchkey([...mode, ...(flags as string[]), "--", ...app(m)], { env: env(t.home, extra as Record<string, string>) });
      expect(r.code, r.stderr).toBe(64);
      const l = lines(r.stderr);
      expect(l).toHaveLength(1);
      expect(l[0]).toMatch(names);
      expect(existsSync(m), "the app must not have run").toBe(false);
    }
  });

  it("a misspelt LATCHKEY_* variable: one warning line naming the closest known one", async () => {
    const m = marker();
    const r = await latchkey(["--", ...app(m)], { env: env(t.home, { LATCHKEY_USR: "nobody", LATCHKEY_STOP_TIMEUT: "1s" }) });
    expect(r.code, r.stderr).toBe(0);
    const l = lines(r.stderr);
    expect(l).toHaveLength(2);
    expect(l.find((x) => x.includes("LATCHKEY_USR"))).toMatch(/LATCHKEY_USER\b/);
    expect(l.find((x) => x.includes("LATCHKEY_STOP_TIMEUT"))).toMatch(/LATCHKEY_STOP_TIMEOUT\b/);
    expect(r.stderr).not.toContain("nobody"); // the value is not echoed
  });
});

describe("finding 18: --user as the same user with other groups, not root", () => {
  it("one line saying a non-root latchkey cannot change groups, exit 77", async () => {
    // latchkey runs as nobody (65534:65534) with the extra group 100; --user 65534 asks for
    // 65534's groups alone, which only root could set
    const dir = t.path("open");
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const m = join(dir, "ran");
    const r = await run("setpriv", ["--reuid", "65534", "--regid", "65534", "--groups", "100", LATCHKEY, "--user", "65534", "--", ...app(m)],
      { env: env(t.home) });
    expect(r.code, r.stderr).toBe(77);
    const l = lines(r.stderr);
    expect(l).toHaveLength(1);
    expect(l[0]).toMatch(/already runs as uid 65534/);
    expect(l[0]).toMatch(/groups/);
    expect(existsSync(m)).toBe(false);
  });
});
