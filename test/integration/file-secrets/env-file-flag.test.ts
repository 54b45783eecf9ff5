/**
 * `--env-file FILE` is the name docker and compose users know, an alias of `--dotenv`. The Node
 * runtime inside the executable reads the `--env-file=PATH` form itself before latchkey runs
 * (and exits 9 when PATH is missing); after `--`, the app's own `--env-file` must reach it untouched.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { cleanEnv, workspace } from "./fixtures.ts";

const ws = workspace("envfileflag");

describe("--env-file", () => {
  it("after -- it belongs to the app, in both modes", async () => {
    for (const mode of [[], ["--exec"]]) {
      const r = await latchkey([...mode, "--", "/bin/echo", `--env-file=${ws.path("missing.env")}`], { env: cleanEnv() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`--env-file=${ws.path("missing.env")}`);
    }
  });

  it("before -- it loads a dotenv file for the app, like --dotenv", async () => {
    const file = ws.path("app.env");
    writeFileSync(file, "GREETING=hello-from-env-file\n");
    const r = await latchkey(["--env-file", file, "--", "sh", "-c", 'echo "$GREETING"'], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("hello-from-env-file");
  });

  it("a missing --env-file is an error naming it, and the app does not start", async () => {
    const r = await latchkey(["--env-file", ws.path("missing.env"), "--", "sh", "-c", "echo APP-RAN"], { env: cleanEnv() });
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("APP-RAN");
    expect(r.stderr).toContain("missing.env");
  });
});

describe("--env-file read by the Node runtime too", () => {
  it("a missing file: exit 9 (documented), the app does not start", async () => {
    const r = await latchkey(["--env-file", ws.path("absent.env"), "--", "sh", "-c", "echo APP-RAN"], { env: cleanEnv() });
    expect(r.code).toBe(9);
    expect(r.stdout).not.toContain("APP-RAN");
  });

  it("what the runtime loaded does not stay in latchkey's own environment: a LATCHKEY_* line configures nothing", async () => {
    const file = ws.path("runtime.env");
    // Were it left in latchkey's environment, LATCHKEY_EXEC would switch to exec mode and the
    // app's parent would be the test runner instead of latchkey.
    writeFileSync(file, "LATCHKEY_EXEC=1\nGREETING=hello-twice\n");
    for (const form of [["--env-file", file], [`--env-file=${file}`]]) {
      const r = await latchkey([...form, "--", "sh", "-c", 'echo "$GREETING ${LATCHKEY_EXEC:-unset} $PPID"'], { env: cleanEnv() });
      expect(r.code, r.stderr).toBe(0);
      const [greeting, exec, ppid] = r.stdout.trim().split(" ");
      expect(greeting).toBe("hello-twice");
      expect(exec).toBe("unset"); // LATCHKEY_* is latchkey's, scrubbed from the app's env
      expect(Number(ppid)).not.toBe(process.pid); // supervise mode: latchkey is the parent
    }
  });
});
