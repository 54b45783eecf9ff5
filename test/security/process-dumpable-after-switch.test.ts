/**
 * The kernel resets a process's dumpability to fs.suid_dumpable on every change of an
 * effective uid or gid (commit_creds), even one made by one thread: latchkey's effective-uid
 * switch around kill(2) (--user, no CAP_KILL: platform/boundary.ts signalAs/asSignalSender)
 * and the one-thread switch that starts the app (privileges/drop.ts switchThread). Where
 * suid_dumpable is 1, latchkey became dumpable after the first forwarded signal: its environ
 * (bootstrap credentials) and memory readable by same-uid processes without CAP_SYS_PTRACE.
 * latchkey must set PR_SET_DUMPABLE 0 again after every such switch.
 *
 * What is observed: latchkey's own system calls (strace on the built binary): on its main
 * thread, every effective-uid switch is followed by prctl(PR_SET_DUMPABLE, 0) before the
 * next one. The outcome itself cannot be seen here: fs.suid_dumpable is a machine-wide
 * setting the tests do not change (0 here: the reset then leaves latchkey non-dumpable), and
 * on this kernel a root reader without CAP_SYS_PTRACE could read even a non-dumpable root
 * process's environ, so a /proc probe tells nothing for a root latchkey.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { LATCHKEY } from "../helpers/paths.ts";
import { start } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";
import { killQuietly, printed } from "./process-helpers.ts";

const root = process.getuid!() === 0;
const strace = spawnSync("strace", ["-V"]).status === 0;
const why = !root ? "needs root (latchkey as root without CAP_KILL, the app as nobody)" : !strace ? "strace is not installed" : "";
if (why) console.log(`skipped: ${why}`);

const started: (number | undefined)[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) killQuietly(pid);
});

const APP = 'trap \'echo "got=hup"\' HUP; echo "app=$$"; while :; do sleep 0.1; done';

describe.skipIf(why !== "")("latchkey makes itself non-dumpable again after each uid switch", () => {
  it("--user nobody without CAP_KILL: after each effective-uid switch (the start's check, forwarded SIGHUP and SIGTERM), PR_SET_DUMPABLE 0 on the same thread", async () => {
    const out = join(tempDir("latchkey-dumpable-"), "strace");
    const { proc, done } = start("strace", ["-f", "-qq", "-e", "trace=setresuid,prctl", "-o", out,
      "setpriv", "--bounding-set=-kill", LATCHKEY, "--user", "nobody", "--", "sh", "-c", APP],
    { env: { PATH: process.env.PATH!, HOME: tempDir() } });
    started.push(proc.pid);
    const app = Number(await printed(proc, "app"));
    started.push(app);
    // latchkey is strace's child (setpriv exec'd it: same pid)
    const pid = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(/\s+/)[0]);
    process.kill(pid, "SIGHUP"); // forwarded to the app as its uid, on one thread
    expect(await printed(proc, "got")).toBe("hup");
    process.kill(pid, "SIGTERM");
    await done;
    const mine = readFileSync(out, "utf8").split("\n").filter((l) => l.startsWith(`${pid} `));
    // A call strace saw interrupted by another thread's is split ("<unfinished ...>", then
    // "<... resumed>"): each call is counted on its first line.
    const events = mine.flatMap((l) => (/ setresuid\(-1, \d+, -1/.test(l) ? ["switch"] : / prctl\(PR_SET_DUMPABLE, SUID_DUMP_DISABLE/.test(l) ? ["seal"] : []));
    const switches = events.filter((e) => e === "switch").length;
    expect(switches, mine.join("\n")).toBeGreaterThanOrEqual(6); // signalAs's check, SIGHUP, SIGTERM: a pair each
    // every switch is followed by a seal before the next switch
    const unsealed = events.map((e, i) => (e === "switch" && events[i + 1] !== "seal" ? i : -1)).filter((i) => i >= 0);
    expect(unsealed, `switches not followed by PR_SET_DUMPABLE 0:\n${mine.join("\n")}`).toEqual([]);
  }, 30_000);
});
