/**
 * Finding 10: latchkey holds every secret and, in its environ, the bootstrap credentials
 * (VAULT_TOKEN, AWS keys). A dumpable latchkey lets any process of its uid read
 * /proc/PID/environ (and mem), and a crash writes a core of hundreds of MB holding every
 * secret. latchkey must be non-dumpable with a core limit of 0; the app keeps its own core
 * limit and dumpability. Run as uid 65534 (latchkey without --user, the app shares its uid:
 * the attacker is a same-uid process) and as root with --user.
 */
import { chmodSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { run, start } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";
import { AS_NOBODY, exited, killQuietly, limit, printed } from "./process-helpers.ts";

const MARKER = "BOOTSTRAP_MARKER_FOR_TEST"; // not LATCHKEY_*: latchkey keeps those from the app
const started: (number | undefined)[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) killQuietly(pid);
});

/** `argv` with a soft core limit (the shell's 512-byte blocks), from a shell that sets it and execs. */
function withCoreLimit(soft: string, argv: string[]): [string, string[]] {
  return ["sh", ["-c", `ulimit -S -c ${soft} && exec "$@"`, "sh", ...argv]];
}

/** Read /proc/PID/environ as uid 65534, from another process. */
async function environAsNobody(pid: number) {
  const r = await run(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), "cat", `/proc/${pid}/environ`], { env: { PATH: process.env.PATH! } });
  return { code: r.code, leaked: r.stdout.includes(MARKER), stderr: r.stderr.trim() };
}

const APP = 'echo "core=$(ulimit -c)"; echo "app=$$"; exec sleep 30';

describe.each([
  ["supervise (posix_spawn)", []],
  ["supervise, --parent-death-signal (the exec shim)", ["--parent-death-signal", "TERM"]],
])("latchkey as uid 65534, %s", (_, flags) => {
  it("is not dumpable: a same-uid process cannot read its environ; its core limit is 0; the app keeps both", async () => {
    const home = tempDir();
    const [file, args] = withCoreLimit("4096", [...AS_NOBODY, LATCHKEY, ...flags, "--", "sh", "-c", APP]);
    const { proc, done } = start(file, args, { env: { PATH: process.env.PATH!, HOME: home, [MARKER]: "x" } });
    started.push(proc.pid);
    const app = Number(await printed(proc, "app"));
    started.push(app);
    // latchkey: the shell exec'd setpriv, which exec'd latchkey: same pid
    const mine = await environAsNobody(proc.pid!);
    expect(mine.leaked).toBe(false);
    expect(mine.code).not.toBe(0);
    expect(mine.stderr).toMatch(/Permission denied/);
    expect(limit(proc.pid!, "Max core file size")[0]).toBe("0");
    // the kernel's mark of a non-dumpable process: its /proc files belong to root, not to its uid
    expect(statSync(`/proc/${proc.pid}/environ`).uid).toBe(0);
    expect(statSync(`/proc/${app}/environ`).uid).toBe(65534);
    // the app: its core limit and its dumpability as they were
    expect(limit(app, "Max core file size")[0]).toBe(String(4096 * 512));
    const its = await environAsNobody(app);
    expect(its).toMatchObject({ code: 0, leaked: true });
    proc.kill("SIGTERM");
    const r = await done;
    expect(r.stdout).toContain("core=4096");
  });
});

it("--exec: the app (latchkey's pid) gets its core limit back and is dumpable again", async () => {
  const [file, args] = withCoreLimit("4096", [...AS_NOBODY, LATCHKEY, "--exec", "--", "sh", "-c", APP]);
  const { proc, done } = start(file, args, { env: { PATH: process.env.PATH!, HOME: tempDir(), [MARKER]: "x" } });
  started.push(proc.pid);
  const app = Number(await printed(proc, "app"));
  expect(app).toBe(proc.pid);
  expect(limit(app, "Max core file size")[0]).toBe(String(4096 * 512));
  expect(await environAsNobody(app)).toMatchObject({ code: 0, leaked: true });
  proc.kill("SIGTERM");
  expect((await done).stdout).toContain("core=4096");
});

it("--user: the app keeps the core limit latchkey started with", async () => {
  const [file, args] = withCoreLimit("4096", [LATCHKEY, "--user", "nobody", "--", "sh", "-c", 'echo "core=$(ulimit -c)"']);
  const r = await run(file, args, { env: { PATH: process.env.PATH!, HOME: tempDir() } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("core=4096");
});

describe("a crash of latchkey writes no core", () => {
  const pattern = readFileSync("/proc/sys/kernel/core_pattern", "utf8").trim();
  const plainFile = !pattern.startsWith("|") && !pattern.includes("/");
  if (!plainFile) console.log(`skipped: core_pattern is ${JSON.stringify(pattern)}, not a file in the working directory; the limits and environ tests above cover it`);
  it.runIf(plainFile)("kill -SEGV of latchkey (uid 65534, core limit unlimited) leaves no core file in its working directory", async () => {
    const cwd = tempDir();
    chmodSync(cwd, 0o777);
    const [file, args] = withCoreLimit("unlimited", [...AS_NOBODY, LATCHKEY, "--", "sh", "-c", APP]);
    const { proc, done } = start(file, args, { cwd, env: { PATH: process.env.PATH!, HOME: cwd } });
    started.push(proc.pid);
    started.push(Number(await printed(proc, "app")));
    proc.kill("SIGSEGV");
    void done;
    const r = await exited(proc); // the orphaned app still holds the output pipes
    expect(r.signal).toBe("SIGSEGV");
    const cores = readdirSync(cwd).filter((f) => f.startsWith("core"));
    for (const f of cores) rmSync(join(cwd, f), { force: true });
    expect(cores).toEqual([]);
  });
});
