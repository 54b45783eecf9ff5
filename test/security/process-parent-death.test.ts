/**
 * Finding 14: when latchkey is not PID 1 the app may be able to SIGKILL it, and then runs on
 * unsupervised. Two answers, both tested against the attack itself:
 *  - prevent it where the kernel allows: with --user and no CAP_KILL, latchkey signals the
 *    app without sharing a uid with it, so the app's kill(latchkey) fails (EPERM);
 *  - where it cannot be prevented (the app runs as latchkey's uid), --parent-death-signal
 *    has the kernel kill the app when latchkey dies.
 * latchkey runs outside any PID namespace of its own (not PID 1), as uid 65534. Every wait
 * is bounded; every process started is killed at the end.
 */
import { afterEach, describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { start } from "../helpers/run.ts";
import { sleep, tempDir } from "../helpers/processes.ts";
import { readdirSync, readFileSync } from "node:fs";
import { AS_NOBODY, alive, diesWithin, exited, killQuietly, printed } from "./process-helpers.ts";

const started: (number | undefined)[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) killQuietly(pid);
});

/** The app: say who it is, SIGKILL its parent (latchkey), report, then live on. */
const ATTACK = 'echo "app=$$"; kill -KILL $PPID; echo "kill=$?"; exec sleep 30';

describe("the app SIGKILLs latchkey (uid 65534, not PID 1, no --user: nothing can stop the kill)", () => {
  it.each([
    ["KILL", []],
    ["TERM", []],
    ["KILL", ["--signal-group"]],
  ])("--parent-death-signal %s %j: the app dies with latchkey", async (sig, extra) => {
    const { proc, done } = start(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), LATCHKEY, "--parent-death-signal", sig, ...extra, "--", "sh", "-c", ATTACK],
      { env: { PATH: process.env.PATH!, HOME: tempDir() } });
    started.push(proc.pid);
    const app = Number(await printed(proc, "app"));
    started.push(app);
    void done;
    const r = await exited(proc);
    expect(r.signal).toBe("SIGKILL"); // the attack itself succeeded: latchkey is gone
    expect(await diesWithin(app, 3000)).toBe(true);
  });

  it("--exec --parent-death-signal KILL: the app (latchkey's pid) dies when latchkey's parent does, like tini -p", async () => {
    const { proc, done } = start("sh", ["-c", '"$@" & echo "parent=$$"; sleep 30', "sh",
      ...AS_NOBODY, LATCHKEY, "--exec", "--parent-death-signal", "KILL", "--", "sh", "-c", 'echo "app=$$"; exec sleep 30'],
      { env: { PATH: process.env.PATH!, HOME: tempDir() } });
    started.push(proc.pid);
    const app = Number(await printed(proc, "app"));
    started.push(app);
    expect(alive(app)).toBe(true);
    proc.kill("SIGKILL");
    void done;
    await exited(proc); // its sleep (and the app, if it lived) hold the output pipes
    expect(await diesWithin(app, 3000)).toBe(true);
  });
});

describe("latchkey dies while it starts the app (before or after the exec shim's prctl)", () => {
  it("--user nobody --parent-death-signal KILL: in 6 attempts no app survives latchkey", async () => {
    const tag = `30.${process.pid}`; // a sleep argument no other process has
    const survivors = () => readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8") === `sleep\0${tag}\0` && alive(Number(p));
      } catch {
        return false;
      }
    });
    let survived = 0;
    for (let i = 0; i < 6; i++) {
      const { proc, done } = start(LATCHKEY, ["--user", "nobody", "--parent-death-signal", "KILL", "--", "sleep", tag],
        { env: { PATH: process.env.PATH!, HOME: tempDir() } });
      started.push(proc.pid);
      // kill latchkey as soon as it has a child (the shim), at a different moment each time
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim()) await sleep(1);
      await sleep(i * 8);
      proc.kill("SIGKILL");
      void done;
      await exited(proc);
      await sleep(300);
      const left = survivors();
      survived += left.length;
      left.forEach((p) => killQuietly(Number(p)));
    }
    expect(survived).toBe(0);
  });
});

describe("the app cannot SIGKILL latchkey where the kernel can prevent it", () => {
  it("--user nobody, latchkey root without CAP_KILL: the app's kill of latchkey fails and latchkey still supervises", async () => {
    const { proc, done } = start("setpriv", ["--bounding-set=-kill", LATCHKEY, "--user", "nobody", "--stop-timeout", "20s", "--", "sh", "-c", ATTACK],
      { env: { PATH: process.env.PATH!, HOME: tempDir() } });
    started.push(proc.pid);
    const app = Number(await printed(proc, "app"));
    started.push(app);
    expect(await printed(proc, "kill")).not.toBe("0");
    expect(alive(proc.pid!)).toBe(true);
    // and latchkey still reaches the app: SIGTERM is forwarded at once (no stop timeout)
    const t0 = performance.now();
    proc.kill("SIGTERM");
    const r = await done;
    expect(r.code, r.stderr).toBe(143);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
