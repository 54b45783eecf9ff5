/**
 * The hardened capability set (`--cap-drop ALL --cap-add SETUID --cap-add SETGID`) has no
 * CAP_KILL, and root without CAP_KILL may not signal a process of another uid. latchkey must
 * still deliver stop signals to an app it runs as --user (src/privileges/drop.ts keepSignalReach).
 * `setpriv --bounding-set=-kill` runs latchkey as root without CAP_KILL.
 */
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../../helpers/paths.ts";
import { start } from "../../helpers/run.ts";

const procStatus = (pid: number) => import("node:fs").then((fs) => fs.readFileSync(`/proc/${pid}/status`, "utf8"));

describe("signals reach an app running as another user when latchkey lacks CAP_KILL", () => {
  it("SIGTERM to latchkey stops the app at once (143), not through the stop timeout's SIGKILL", async () => {
    const { proc, done } = start("setpriv", ["--bounding-set=-kill", LATCHKEY, "--user", "nobody", "--stop-timeout", "20s", "--",
      "sh", "-c", "echo started; exec sleep 60"], { env: { PATH: process.env.PATH! } });
    await new Promise<void>((resolve) => proc.stdout!.on("data", (d: Buffer) => d.toString().includes("started") && resolve()));
    const status = await procStatus(proc.pid!);
    expect(status).toMatch(/^CapEff:\s*[0-9a-f]+$/m);
    const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
    expect(capEff & (1n << 5n)).toBe(0n); // really without CAP_KILL
    const t0 = performance.now();
    proc.kill("SIGTERM");
    const r = await done;
    expect(r.code, r.stderr).toBe(143);
    expect(performance.now() - t0).toBeLessThan(10_000); // far below the 20 s stop timeout
    expect(r.stderr).not.toContain("sending SIGKILL");
  });
});
