/**
 * Finding 16: `--rewrite TERM:0` drops SIGTERM, but the stop clock (--stop-timeout) still starts
 * when SIGTERM arrives: an app cannot outlive its stop timeout because its stop signal was
 * rewritten or dropped.
 */
import { existsSync } from "node:fs";
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
      "/bin/sh", "-c", 'trap "" USR1; : > "$0"; sleep 30 & wait $!; sleep 30', ready], { env: env(t.home), timeoutMs: 15_000 });
    await until(() => existsSync(ready), 10_000);
    const t0 = Date.now();
    proc.kill("SIGTERM");
    const r = await done;
    const took = Date.now() - t0;
    expect(r.signal, `latchkey was killed by the test's timeout: ${r.stderr}`).toBeNull();
    expect(r.code).toBe(137);
    expect(took).toBeLessThan(8_000);
    expect(r.stderr).toMatch(/stop timeout/);
  });
});
