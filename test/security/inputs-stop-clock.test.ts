/**
 * Finding 16: `--rewrite TERM:0` drops SIGTERM, but the stop clock (--stop-timeout) still starts
 * when SIGTERM arrives: an app cannot outlive its stop timeout because its stop signal was
 * rewritten or dropped.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { start } from "../helpers/run.ts";
import { env, tempRoot } from "./inputs-fixtures.ts";

const t = tempRoot("stopclock");

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("finding 16: the stop clock starts whatever the stop signal is rewritten to", () => {
  it.each([["TERM:0"], ["TERM:USR1"], ["TERM:drop"]])("--rewrite %s --stop-timeout 1s: SIGKILL after 1 s", async (rule) => {
    const ready = t.path(`ready-${rule.replace(":", "-")}`);
    // the app ignores USR1 (so a rewrite to USR1 does not stop it) and would run 30 s
    const { proc, done } = start(LATCHKEY, ["--rewrite", rule, "--stop-timeout", "1s", "--grace", "1s", "--",
      "/bin/sh", "-c", 'trap "" USR1; echo $$ > "$0"; exec sleep 30', ready], { env: env(t.home), timeoutMs: 40_000 });
    await until(() => existsSync(ready) && readFileSync(ready, "utf8").endsWith("\n"), 10_000);
    const t0 = Date.now();
    proc.kill("SIGTERM");
    // latchkey's own exit, not the pipes' close (a surviving app would hold them open)
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    const code = await Promise.race([exited, new Promise<"still running">((r) => setTimeout(() => r("still running"), 8_000))]);
    const took = Date.now() - t0;
    if (code === "still running") {
      proc.kill("SIGKILL");
      try {
        process.kill(Number(readFileSync(ready, "utf8")), "SIGKILL"); // the app, by the pid it wrote
      } catch {
        // already gone
      }
    }
    const r = await done;
    expect(code, `8 s after SIGTERM with --stop-timeout 1s: ${r.stderr}`).toBe(137);
    expect(took).toBeLessThan(8_000);
    expect(r.stderr).toMatch(/stop timeout/);
  });
});
