/**
 * latchkey's own process environment is never modified: secrets go to the child only, so
 * /proc/<latchkey>/environ (what `docker inspect`-adjacent tooling and core dumps see) holds none.
 */
import { readFileSync, existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { FX } from "../../fixtures/secret-values.ts";
import { cleanEnv, workspace, writeFiles } from "./fixtures.ts";

const ws = workspace("environ");

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("latchkey's own environment", () => {
  it("/proc/<latchkey pid>/environ holds no secret while the app's does", async () => {
    const dir = writeFiles(ws.path("s"), { "db-password": FX.dbPassword });
    const ref = writeFiles(ws.path("r"), { r: FX.ref });
    const ready = ws.path("ready");
    const { proc, done } = start(LATCHKEY, ["--secrets-dir", dir, "--", "/bin/sh", "-c", `echo $$ > ${ready}.tmp && mv ${ready}.tmp ${ready} && exec sleep 60`], {
      env: cleanEnv({ REF: `file://${ref}/r` }),
    });
    try {
      await waitFor(() => existsSync(ready));
      const appPid = Number(readFileSync(ready, "utf8").trim());
      const own = readFileSync(`/proc/${proc.pid}/environ`, "utf8");
      const app = readFileSync(`/proc/${appPid}/environ`, "utf8");
      expect(own).toContain(`REF=file://${ref}/r`);
      expect(own).not.toContain(FX.dbPassword);
      expect(own).not.toContain(FX.ref);
      expect(app).toContain(`DB_PASSWORD=${FX.dbPassword}`);
      expect(app).toContain(`REF=${FX.ref}`);
    } finally {
      proc.kill("SIGTERM");
      await done;
    }
  });
});
