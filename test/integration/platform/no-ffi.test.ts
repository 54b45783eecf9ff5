/**
 * dist/latchkey.cjs on a plain Node: with node:ffi (Node 26 has it on by default) it behaves
 * like the single executable; without it (--no-experimental-ffi, --permission without
 * --allow-ffi, older Node) latchkey still runs the app and passes exit codes, and says
 * loudly what it cannot do: reap orphans, unblock SIGUSR1.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../helpers/paths.ts";
import { run } from "../../helpers/run.ts";
import { fx, statusFields } from "../../helpers/processes.ts";

const CJS = process.env.LATCHKEY_BIN ? join(process.env.LATCHKEY_BIN, "..", "latchkey.cjs") : join(ROOT, "dist", "latchkey.cjs");
const NODE = process.execPath;
const zombies = (out: string) => Number(/zombies=(\d+)/.exec(out)?.[1] ?? NaN);

describe("latchkey.cjs on node with node:ffi", () => {
  it("reaps orphans as PID 1 and passes the exit code", async () => {
    const r = await run("unshare", ["--pid", "--fork", "--mount-proc", NODE, "--disable-sigusr1", CJS, "--",
      ...fx("orphan-maker.py", "100", "0.5", "6")]);
    expect(r.stderr).toBe("");
    expect(zombies(r.stdout)).toBe(0);
    expect(r.code).toBe(6);
  });

  it("--exec leaves nothing blocked or ignored", async () => {
    const r = await run(NODE, ["--disable-sigusr1", CJS, "--exec", "--", ...fx("sigmask.sh")]);
    const f = statusFields(r.stdout);
    expect(f.SigBlk).toBe("0000000000000000");
    expect(f.SigIgn).toBe("0000000000000000");
  });
});

describe("latchkey.cjs on node without node:ffi", () => {
  const noFfi = [NODE, "--no-experimental-ffi"];

  it("runs the app, passes its exit code and warns that it cannot reap", async () => {
    const r = await run(noFfi[0]!, [...noFfi.slice(1), CJS, "--", "sh", "-c", "exit 3"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^latchkey: warn: cannot reap orphaned processes: .*zombies will accumulate/);
  });

  it("as PID 1 the orphans stay zombies, but latchkey does not wait out the grace period for them", async () => {
    const t0 = Date.now();
    const r = await run("unshare", ["--pid", "--fork", "--mount-proc", ...noFfi, CJS, "--grace", "20s", "--",
      ...fx("orphan-maker.py", "20", "0.2", "6", "0.3")]);
    expect(r.code).toBe(6);
    expect(zombies(r.stdout)).toBe(20);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.stderr).not.toMatch(/grace period/);
  });

  it("--exec with SIGUSR1 blocked by --disable-sigusr1 says that the app inherits it", async () => {
    const r = await run(noFfi[0]!, [...noFfi.slice(1), "--disable-sigusr1", CJS, "--exec", "--", ...fx("sigmask.sh")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/SIGUSR1 blocked/);
  });
});
