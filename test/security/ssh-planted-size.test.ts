/**
 * The app user owns its ~/.ssh and can plant a huge sparse file there under a key's name or
 * as `.latchkey-installed`; root latchkey read each whole (readFileSync on the descriptor) at
 * the next start: up to ~2 GiB of memory, or Node's "greater than 2 GiB" error for more.
 * Planted files past what latchkey could ever have written are refused on one line (77),
 * before anything is read; peak memory stays small.
 */
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { run } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";
import { SSH_KEY } from "../fixtures/secret-values.ts";

const APP = 65534;
const root = process.getuid!() === 0;
const why = root ? "" : "needs root (latchkey as root, the app's ~/.ssh owned by uid 65534)";
if (why) console.log(`skipped: ${why}`);
const hasTime = spawnSync("/usr/bin/time", ["-f", "%M", "true"]).status === 0;

async function plant(name: string, size: string) {
  const d = tempDir("latchkey-ssh-size-");
  const secrets = join(d, "secrets");
  mkdirSync(secrets);
  writeFileSync(join(secrets, "ssh_id_ed25519"), SSH_KEY);
  const home = join(d, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  chownSync(home, APP, APP);
  chownSync(join(home, ".ssh"), APP, APP);
  // Planted by the app user: a sparse file, no disk used.
  const t = spawnSync("setpriv", ["--reuid", String(APP), "--regid", String(APP), "--clear-groups", "truncate", "-s", size, join(home, ".ssh", name)]);
  expect(t.status, t.stderr?.toString()).toBe(0);
  const args = ["--user", `${APP}:${APP}`, "--secrets-dir", secrets, "--ssh-dir", join(home, ".ssh"), "--", "true"];
  // Peak RSS in KiB through GNU time, when present (its line is the last of stderr).
  const r = hasTime
    ? await run("/usr/bin/time", ["-f", "maxrss=%M", LATCHKEY, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home }, timeoutMs: 60_000 })
    : await run(LATCHKEY, args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home }, timeoutMs: 60_000 });
  const m = /^maxrss=(\d+)$/m.exec(r.stderr);
  const stderr = r.stderr.replace(/^maxrss=\d+\n?/m, "").replace(/^Command exited with non-zero status \d+\n?/m, "");
  return { code: hasTime ? Number(/^Command exited with non-zero status (\d+)$/m.exec(r.stderr)?.[1] ?? r.code) : r.code, stderr, maxRssKiB: m ? Number(m[1]) : undefined };
}

describe.skipIf(why !== "")("a huge file planted in ~/.ssh is refused, not read", () => {
  it.each([
    ["id_ed25519", "3G"],
    ["id_ed25519", "1500M"],
    [".latchkey-installed", "3G"],
    [".latchkey-installed", "1500M"],
  ])("%s of %s: refused (77) on one line, peak memory under 300 MiB", async (name, size) => {
    const r = await plant(name, size);
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(new RegExp(`${name.replace(".", "\\.")}.*(too large|larger than)`));
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    if (r.maxRssKiB === undefined) console.log("peak memory not measured: /usr/bin/time is missing");
    else expect(r.maxRssKiB, "peak RSS (KiB)").toBeLessThan(300 * 1024);
  }, 60_000);
});
