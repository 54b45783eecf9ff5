/** --pre-start hooks through the built binary: order, environment, user, failures. */
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { cleanEnv, freePort, tmp } from "./net.ts";

describe("pre-start hooks", () => {
  it("run in order after the waits, with the app's environment, then the app starts", async () => {
    const dir = tmp();
    const log = join(dir, "log");
    const r = await latchkey([
      "--pre-start", `sh -c 'echo "one $GREETING" >> ${log}'`,
      "--pre-start", `sh -c 'echo two >> ${log}'`,
      "--log-level", "info",
      "--", "sh", "-c", `echo three >> ${log}`,
    ], { env: cleanEnv({ GREETING: "hello world" }) });
    expect(r.code).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("one hello world\ntwo\nthree\n");
    expect(r.stderr).toMatch(/ok +pre-start sh -c 'echo "one \$GREETING" >> .*': exited 0/);
  });

  it("a failing hook stops the start: exit 69, its exit code reported, later hooks and the app not run", async () => {
    const dir = tmp();
    const ran = join(dir, "ran");
    const r = await latchkey([
      "--pre-start", "sh -c 'exit 3'",
      "--pre-start", `touch ${ran}-hook2`,
      "--", "touch", ran,
    ], { env: cleanEnv() });
    expect(r.code).toBe(69);
    expect(existsSync(ran)).toBe(false);
    expect(existsSync(`${ran}-hook2`)).toBe(false);
    expect(r.stderr).toMatch(/FAIL pre-start sh -c 'exit 3': exited with code 3/);
    expect(r.stderr).toMatch(/-    pre-start touch .*: not run/);
    expect(r.stderr).toMatch(/startup gate failed after .*: pre-start hook failed: sh -c 'exit 3' \(exited with code 3\); the app was not started/);
  });

  it("hooks run only after every wait passed; a failed wait means no hook runs", async () => {
    const dir = tmp();
    const ran = join(dir, "hook-ran");
    const port = await freePort();
    const r = await latchkey(["--wait", `tcp://127.0.0.1:${port}`, "--wait-timeout", "600ms", "--pre-start", `touch ${ran}`, "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(69);
    expect(existsSync(ran)).toBe(false);
  });

  it("a hook that is not found fails at once with 127, before any waiting", async () => {
    const port = await freePort();
    const r = await latchkey(["--wait", `tcp://127.0.0.1:${port}`, "--pre-start", "no-such-migrate up", "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(127);
    expect(r.ms).toBeLessThan(5_000);
    expect(r.stderr).toMatch(/no-such-migrate: command not found/);
  });

  it("rejects an unterminated quote in a hook with a usage error naming the flag", async () => {
    const r = await latchkey(["--pre-start", "sh -c 'oops", "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--pre-start: invalid value 'sh -c 'oops': unterminated single quote/);
  });

  it("takes one hook per line from LATCHKEY_PRE_START (commands contain commas)", async () => {
    const dir = tmp();
    const log = join(dir, "log");
    const r = await latchkey(["--", "true"], {
      env: cleanEnv({ LATCHKEY_PRE_START: `sh -c 'echo a,b >> ${log}'\nsh -c 'echo c >> ${log}'` }),
    });
    expect(r.code).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("a,b\nc\n");
  });

  it.runIf(process.getuid?.() === 0)("runs as the app user with that user's groups (--user)", async () => {
    const dir = tmp();
    chmodSync(dir, 0o777);
    const out = join(dir, "id");
    const r = await latchkey(["--user", "nobody", "--pre-start", `sh -c 'id -u > ${out}; id -G >> ${out}'`, "--", "true"], { env: cleanEnv() });
    expect(r.code).toBe(0);
    const [uid, groups] = readFileSync(out, "utf8").trim().split("\n");
    expect(uid).toBe("65534");
    expect(groups).not.toMatch(/(^| )0( |$)/); // root's group is gone
  });
});

if (process.getuid?.() !== 0) console.log("hooks.test.ts: the --user hook test needs root; skipped (not root)");
