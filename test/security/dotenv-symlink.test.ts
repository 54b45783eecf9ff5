/**
 * The app user owns its `.env` (the threat model's first attacker) and replaces it with a
 * symlink to a root-only dotenv file (another service's credentials, an operator's secrets
 * file). latchkey reads --dotenv as root: through the link, the root file's variables would
 * land in the app's environment. It must refuse instead.
 */
import { chownSync, lchownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey, run } from "../helpers/run.ts";
import { LATCHKEY } from "../helpers/paths.ts";
import { chmodSync } from "node:fs";
import { tempDir } from "../helpers/processes.ts";

const APP = 65534;
const PATH = process.env.PATH ?? "/usr/bin:/bin";

describe("--dotenv replaced by the app user with a symlink to a root-only file", () => {
  it("refused (77): the root file's variables reach neither the app nor latchkey's output", async () => {
    if (process.getuid?.() !== 0) return console.log("skipped: needs root (the attacker is another user)");
    const d = tempDir("latchkey-dotenv-link-");
    const rootDir = join(d, "rootdir");
    mkdirSync(rootDir, { mode: 0o700 });
    writeFileSync(join(rootDir, "secret.env"), "STOLEN=root-only-value-7d2e\n", { mode: 0o600 });
    const app = join(d, "app");
    mkdirSync(app);
    chownSync(app, APP, APP);
    const env = join(app, ".env");
    symlinkSync(join(rootDir, "secret.env"), env);
    lchownSync(env, APP, APP);
    const notes = join(d, "notes");
    mkdirSync(notes, { mode: 0o777 });
    chownSync(notes, APP, APP);
    const out = join(notes, "out");
    const r = await latchkey(["--user", `${APP}:${APP}`, "--dotenv", env, "--", "sh", "-c", `echo "got:$STOLEN" > "$OUT"`], { env: { PATH, OUT: out } });
    expect(existsSync(out) ? readFileSync(out, "utf8") : "").not.toContain("root-only-value");
    expect(r.stderr).not.toContain("root-only-value");
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/^latchkey: error: env file .*symlink/);
  });

  it("a non-root latchkey reads a --dotenv below a search-only (0711) directory, as a path lookup would", async () => {
    if (process.getuid?.() !== 0) return console.log("skipped: needs root to run latchkey as another user");
    const d = tempDir("latchkey-dotenv-0711-");
    const outer = join(d, "outer");
    mkdirSync(join(outer, "in"), { recursive: true });
    chmodSync(outer, 0o711);
    writeFileSync(join(outer, "in", "a.env"), "A=from-dotenv\n", { mode: 0o644 });
    const r = await run("setpriv", ["--reuid", String(APP), "--regid", String(APP), "--clear-groups", LATCHKEY, "--dotenv", join(outer, "in", "a.env"), "--", "sh", "-c", 'echo "A=$A"'], { env: { PATH } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("A=from-dotenv\n");
  });
});
