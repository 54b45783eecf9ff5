/**
 * The Node runtime inside the executable claims `--env-file` before the first `--` (that is why
 * latchkey's flag is `--dotenv`). After `--`, the app's own `--env-file` must reach it untouched.
 */
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

  it("before -- it is not latchkey's option (the runtime's, then refused)", async () => {
    const r = await latchkey(["--env-file", ws.path("missing.env"), "--", "true"], { env: cleanEnv() });
    expect(r.code).not.toBe(0);
  });
});
