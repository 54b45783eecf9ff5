/**
 * Interactive use (`docker run -it`): stdin is a terminal. The app must own the terminal's
 * foreground process group, in a group of its own, so that Ctrl-C from the keyboard reaches
 * it once (from the terminal) and not a second time through latchkey.
 * test/fixtures/pty-run.py gives the command a fresh pseudo-terminal and types Ctrl-C.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../../helpers/paths.ts";
import { run, start } from "../../helpers/run.ts";
import { fixture, fx, lines, PY, sleep, statusFields, tempDir, waitFor, waitForFile } from "../../helpers/processes.ts";

const PTY = [PY, fixture("pty-run.py")];

function ttyInfo(out: string): Record<string, string> {
  const line = out.split(/\r?\n/).find((l) => l.startsWith("pid="));
  if (!line) throw new Error(`tty-info printed nothing: ${JSON.stringify(out)}`);
  return Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string]));
}

describe("under a terminal", () => {
  it.each([
    ["supervise", []],
    ["supervise, --user", ["--user", "0:0"]],
  ])("%s: the app is in its own process group, and that group is the terminal's foreground", async (_m, flags) => {
    const r = await run(PTY[0]!, [...PTY.slice(1), "--", LATCHKEY, ...flags, "--", ...fx("tty-info.py")]);
    expect(r.code, r.stdout).toBe(0);
    const t = ttyInfo(r.stdout);
    expect(t.foreground).toBe("yes");
    expect(t.tcpgrp).toBe(t.pgrp);
    expect(t.pgrp).toBe(t.pid); // a group of its own, led by the app
    expect(t.parent_pgrp).not.toBe(t.pgrp); // latchkey stays out of it
    expect(t.sid).toBe(t.parent_pgrp); // same session as latchkey (the terminal's)
  });

  it("exec: the app is latchkey's process, still the terminal's foreground", async () => {
    const r = await run(PTY[0]!, [...PTY.slice(1), "--", LATCHKEY, "--exec", "--", ...fx("tty-info.py")]);
    expect(r.code, r.stdout).toBe(0);
    const t = ttyInfo(r.stdout);
    expect(t.foreground).toBe("yes");
    expect(t.sid).toBe(t.pid); // pty-run made latchkey a session leader; the app is that process
  });

  it("started in the background of an interactive shell, the app does not take the terminal from the shell", async () => {
    // bash -i puts `cmd &` in a background group of its own; taking the foreground from there
    // would leave the shell in the background, stopped by SIGTTIN at its next read
    const cmd = `${[LATCHKEY, "--", ...fx("tty-info.py")].join(" ")} & wait`;
    const r = await run(PTY[0]!, [...PTY.slice(1), "--", "bash", "--norc", "--noprofile", "-i", "-c", cmd]);
    expect(r.code, r.stdout).toBe(0);
    const t = ttyInfo(r.stdout);
    expect(t.foreground).toBe("no");
    expect(t.tcpgrp).toBe(t.sid); // the shell (session leader) keeps the terminal
    expect(t.pgrp).toBe(t.pid); // still a group of its own
    expect(t.sid).not.toBe(t.pid); // and still in the terminal's session, a background job
  });

  it("works with script(1) as well", async () => {
    const cmd = [LATCHKEY, "--", ...fx("tty-info.py")].join(" ");
    const r = await run("script", ["-qec", cmd, "/dev/null"]);
    expect(r.code, r.stdout).toBe(0);
    expect(ttyInfo(r.stdout).foreground).toBe("yes");
  });

  it("the app starts with no signal ignored or blocked (the shim's SIGTTOU dance leaves nothing behind)", async () => {
    const r = await run(PTY[0]!, [...PTY.slice(1), "--", LATCHKEY, "--", ...fx("sigmask.sh")]);
    expect(r.code, r.stdout).toBe(0);
    const f = statusFields(r.stdout.replace(/\r/g, ""));
    expect(f.SigIgn).toBe("0000000000000000");
    expect(f.SigBlk).toBe("0000000000000000");
  });

  it("Ctrl-C reaches the app exactly once", async () => {
    const dir = tempDir();
    const out = join(dir, "signals");
    const ready = join(dir, "ready");
    const p = start(PTY[0]!, [...PTY.slice(1), "--ctrl-c-when", ready, "--", LATCHKEY, "--",
      ...fx("signal-recorder.py", "--out", out, "--ready", ready, "--exit-on", "SIGUSR2", "--exit-code", "5")], { timeoutMs: 30_000 });
    await waitForFile(ready);
    await waitFor(() => lines(out).length >= 1, "SIGINT at the app");
    await sleep(300); // room for a second, forwarded copy to show up if latchkey sent one
    process.kill(Number(readFileSync(ready, "utf8")), "SIGUSR2");
    const r = await p.done;
    expect(lines(out)).toEqual(["SIGINT", "SIGUSR2"]);
    expect(r.code).toBe(5);
  });

  it("an app killed by Ctrl-C makes latchkey exit 130", async () => {
    const dir = tempDir();
    const out = join(dir, "signals");
    const ready = join(dir, "ready");
    const r = await run(PTY[0]!, [...PTY.slice(1), "--ctrl-c-when", ready, "--", LATCHKEY, "--",
      ...fx("signal-recorder.py", "--out", out, "--ready", ready, "--die-on", "SIGINT")]);
    expect(lines(out)).toEqual(["SIGINT"]);
    expect(r.code).toBe(130);
  });
});
