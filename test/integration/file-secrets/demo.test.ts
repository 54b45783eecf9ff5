/** The README quick start: scripts/demo must work (it runs the built dist/latchkey). */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../helpers/run.ts";
import { ROOT } from "../../helpers/paths.ts";

describe("scripts/demo", () => {
  it("dry run, then the demo app with its variables, then the production override", async () => {
    const r = await run(join(ROOT, "scripts", "demo"), [], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("ok: the app would start");
    expect(r.stdout).toContain("DB_PASSWORD: de****** (25 characters)");
    expect(r.stdout).toContain("DB_PASSWORD: de****** (27 characters)");
    expect(r.stdout).toContain("DB_PORT: 54****** (4 characters)");
    expect(r.stdout).toContain("LATCHKEY_LOG_LEVEL: (not set)");
    expect(r.stdout + r.stderr).not.toContain("demo-db-password-not-real");
  });
});
