/**
 * --user without a second runtime start: latchkey's main thread takes the app's ids for the
 * one posix_spawn (supervise) or execve (--exec) and gives them back (privileges/drop.ts
 * switchThread). What the app gets must be exactly what a classic drop gives it: its real,
 * effective, saved and filesystem ids, groups, every capability set and no_new_privs are
 * compared line by line with `setpriv --reuid --regid --init-groups` running the same probe
 * under the same parent (and with gosu, which differs only in leaving the primary group out
 * of the supplementary list). The app cannot become root again, and latchkey, every thread
 * of it, is root again once the app runs.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { run, start, type RunResult } from "../helpers/run.ts";
import { lines, PY, statusFields, tempDir, waitFor } from "../helpers/processes.ts";
import { exited, killQuietly, printed } from "./process-helpers.ts";

const dir = tempDir();
const passwd = join(dir, "passwd");
const group = join(dir, "group");
writeFileSync(passwd, [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "tester:x:4242:4242:Test User:/home/tester:/bin/sh",
  "",
].join("\n"));
writeFileSync(group, [
  "root:x:0:",
  "nogroup:x:65534:",
  "tester:x:4242:",
  "extra1:x:5001:tester",
  "extra2:x:5002:someone,tester",
  "unrelated:x:5003:someone",
  "",
].join("\n"));

/** The probe: the kernel's view of itself, HOME, then every way back to root tried. */
const probe = join(dir, "probe.py");
writeFileSync(probe, `import os, sys, time
keys = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")
for line in open("/proc/self/status"):
    if line.split(":")[0] in keys:
        print(line.rstrip())
print("HOME:\\t" + os.environ.get("HOME", "(unset)"))
tries = {"setuid": lambda: os.setuid(0), "seteuid": lambda: os.seteuid(0), "setresuid": lambda: os.setresuid(0, 0, 0),
         "setgid": lambda: os.setgid(0), "setresgid": lambda: os.setresgid(0, 0, 0), "setgroups": lambda: os.setgroups([0])}
for name, attempt in tries.items():
    try:
        attempt()
        print("regain_" + name + ": succeeded")
    except PermissionError:
        print("regain_" + name + ": EPERM")
sys.stdout.flush()
if len(sys.argv) > 1:
    print("ready=%d" % os.getpid(), flush=True)
    time.sleep(60)
`, { mode: 0o755 });
const APP = [PY, probe];

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** `argv` in a private mount namespace whose /etc/passwd and /etc/group are the test's (the host's stay untouched). */
function withTestEtc(argv: string[], pid1 = false): Promise<RunResult> {
  const script = `mount --bind ${q(passwd)} /etc/passwd && mount --bind ${q(group)} /etc/group && exec ${argv.map(q).join(" ")}`;
  const ns = pid1 ? ["--mount", "--pid", "--fork", "--mount-proc"] : ["--mount", "--fork"];
  return run("unshare", [...ns, "sh", "-c", script], { env: { PATH: process.env.PATH!, HOME: "/root" } });
}

/** Every line the probe printed, by key; the run must have succeeded. */
function report(r: RunResult): Record<string, string> {
  expect(r.code, r.stderr).toBe(0);
  const f = statusFields(r.stdout);
  expect(f.Uid, r.stdout).toBeDefined();
  return f;
}

/** The status lines alone (not HOME, not the regain attempts). */
function ids(f: Record<string, string>): Record<string, string> {
  const { HOME: _home, ...rest } = f;
  return Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith("regain")));
}

const REGAIN_REFUSED = {
  regain_setuid: "EPERM", regain_seteuid: "EPERM", regain_setresuid: "EPERM",
  regain_setgid: "EPERM", regain_setresgid: "EPERM", regain_setgroups: "EPERM",
};
function regain(f: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(f).filter(([k]) => k.startsWith("regain")));
}

describe.each([
  ["supervise (not PID 1: through the exec shim)", [] as string[], false],
  ["supervise as PID 1 (the thread switch)", [] as string[], true],
  ["--exec", ["--exec"], false],
])("--user in %s mode: the app's credentials are setpriv's", (_mode, mode, pid1) => {
  it.each([
    ["a user with supplementary groups", "tester", ["--reuid", "4242", "--regid", "4242", "--init-groups"], "/home/tester"],
    ["nobody", "nobody", ["--reuid", "65534", "--regid", "65534", "--init-groups"], "/nonexistent"],
    ["user:group (that group only)", "tester:extra1", ["--reuid", "4242", "--regid", "5001", "--groups", "5001"], "/home/tester"],
    ["a uid with no passwd entry (gid 0, as docker and gosu)", "4999", ["--reuid", "4999", "--regid", "0", "--groups", "0"], "/"],
  ])("%s: ids, groups, capability sets, no_new_privs exactly; HOME; root cannot be regained", async (_what, user, reference, home) => {
    const ours = report(await withTestEtc([LATCHKEY, ...mode, "--user", user, "--", ...APP], pid1));
    const theirs = report(await withTestEtc(["setpriv", ...reference, ...APP], pid1));
    expect(ids(ours)).toEqual(ids(theirs));
    expect(ours.HOME).toBe(home);
    // gid 0 is this app's own gid (no passwd entry): "regaining" it is no privilege
    const gidZero = ours.Gid!.split(/\s+/)[0] === "0";
    expect(regain(ours)).toEqual(gidZero ? { ...REGAIN_REFUSED, regain_setgid: "succeeded", regain_setresgid: "succeeded" } : REGAIN_REFUSED);
  });

  it("latchkey started with ambient capabilities: the app has none left, as with setpriv", async () => {
    // an ambient capability survives an unprivileged execve; a whole-process setuid clears it
    const ambient = ["setpriv", "--inh-caps", "+net_bind_service", "--ambient-caps", "+net_bind_service"];
    const ours = report(await withTestEtc([...ambient, LATCHKEY, ...mode, "--user", "tester", "--", ...APP], pid1));
    const theirs = report(await withTestEtc([...ambient, "setpriv", "--reuid", "4242", "--regid", "4242", "--init-groups", ...APP], pid1));
    expect(ids(ours)).toEqual(ids(theirs));
    expect(ours.CapAmb).toBe("0000000000000000");
    expect(ours.CapInh).toBe("0000000000000400"); // what latchkey was given passes on, as with setpriv
    expect(regain(ours)).toEqual(REGAIN_REFUSED);
  });

  it("--no-new-privileges: the same as setpriv --no-new-privs", async () => {
    const ours = report(await withTestEtc([LATCHKEY, ...mode, "--no-new-privileges", "--user", "tester", "--", ...APP], pid1));
    const theirs = report(await withTestEtc(["setpriv", "--no-new-privs", "--reuid", "4242", "--regid", "4242", "--init-groups", ...APP], pid1));
    expect(ids(ours)).toEqual(ids(theirs));
    expect(ours.NoNewPrivs).toBe("1");
  });

  it("latchkey started with securebits no_setuid_fixup: still no capability in the app", async () => {
    const bits = ["setpriv", "--securebits", "+no_setuid_fixup"];
    const ours = report(await withTestEtc([...bits, LATCHKEY, ...mode, "--user", "tester", "--", ...APP], pid1));
    const theirs = report(await withTestEtc([...bits, "setpriv", "--reuid", "4242", "--regid", "4242", "--init-groups", ...APP], pid1));
    expect(ids(ours)).toEqual(ids(theirs));
    expect([ours.CapPrm, ours.CapEff, ours.CapAmb]).toEqual(["0000000000000000", "0000000000000000", "0000000000000000"]);
    expect(regain(ours)).toEqual(REGAIN_REFUSED);
  });
});

describe("gosu as the reference", () => {
  it.each([["supervise", []], ["--exec", ["--exec"]]] as const)("%s: ids and capability sets as gosu's (gosu lists no primary group)", async (_m, mode) => {
    const ours = report(await run(LATCHKEY, [...mode, "--user", "nobody", "--", ...APP], { env: { PATH: process.env.PATH!, HOME: "/root" } }));
    const theirs = report(await run("gosu", ["nobody", ...APP], { env: { PATH: process.env.PATH!, HOME: "/root" } }));
    const { Groups: g1, ...a } = ids(ours);
    const { Groups: g2, ...b } = ids(theirs);
    expect(a).toEqual(b);
    expect([g1, g2]).toEqual(["65534", ""]); // initgroups' list (latchkey, setpriv) vs gosu's
  });
});

describe("one runtime start", () => {
  const strace = spawnSync("strace", ["-V"]).status === 0;
  /** The execve calls that succeeded while `argv` ran, as strace saw them. */
  async function execs(argv: string[]): Promise<string[]> {
    const trace = join(tempDir(), "execve.txt");
    const r = await run("strace", ["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", trace, ...argv]);
    expect(r.code, r.stderr).toBe(0);
    return readFileSync(trace, "utf8").split("\n").filter((l) => / execve\(/.test(l) && / = 0$/.test(l));
  }
  const ofLatchkey = (l: string[]) => l.filter((x) => x.includes(`execve("${LATCHKEY}"`));
  const PID1 = ["unshare", "--pid", "--fork", "--mount-proc"];

  it.each([["supervise as PID 1", PID1, []], ["--exec", [], ["--exec"]], ["--exec as PID 1", PID1, ["--exec"]]] as const)(
    "%s --user: latchkey's executable is started once, the app's directly", async (_m, wrap, mode) => {
      if (!strace) {
        console.log("skipped: strace is not installed (apt-get install strace)");
        return;
      }
      const e = await execs([...wrap, LATCHKEY, ...mode, "--user", "nobody", "--", "/bin/true"]);
      expect(ofLatchkey(e).map((l) => l.replace(/^\d+\s+/, "").slice(0, 120))).toHaveLength(1);
      expect(e.filter((l) => l.includes('execve("/bin/true"'))).toHaveLength(1);
    });

  it("supervise, not PID 1: the exec shim still drops privileges (latchkey's ids never change there)", async () => {
    if (!strace) {
      console.log("skipped: strace is not installed (apt-get install strace)");
      return;
    }
    const e = await execs([LATCHKEY, "--user", "nobody", "--", "/bin/true"]);
    expect(ofLatchkey(e).filter((l) => l.includes("__latchkey_exec_shim"))).toHaveLength(1);
  });
});

describe("latchkey is root again once the app runs", () => {
  it("every thread of the supervisor (PID 1): uids, gids and groups as before the start", async () => {
    const before = threadIds(process.pid); // the test runner: root, like latchkey at its start
    expect(before.every((t) => t.Uid === "0\t0\t0\t0" && t.Gid === "0\t0\t0\t0")).toBe(true);
    const { proc } = start("unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", LATCHKEY, "--user", "nobody", "--", ...APP, "wait"],
      { env: { PATH: process.env.PATH!, HOME: "/root" } });
    try {
      await printed(proc, "ready");
      // latchkey is unshare's child (PID 1 inside, another pid here)
      const latchkey = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim());
      expect(readFileSync(`/proc/${latchkey}/cmdline`, "utf8").split("\0")[0]).toBe(LATCHKEY);
      const threads = threadIds(latchkey);
      expect(threads.length).toBeGreaterThan(1); // the main thread and libuv's, all of them
      const groups = readFileSync("/proc/self/status", "utf8").match(/^Groups:[ \t]*(.*)$/m)![1]!.trim();
      for (const t of threads) expect(t).toEqual({ Uid: "0\t0\t0\t0", Gid: "0\t0\t0\t0", Groups: groups });
    } finally {
      killQuietly(proc.pid); // --kill-child: unshare's death kills latchkey, PID 1, and the namespace with it
      await exited(proc);
    }
  });
});

describe("a rotation restart as PID 1 with --user (the thread switch on every start)", () => {
  it("latchkey still reads a root-only secret and renders as root after the first start; the restarted app is the user again", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets, { mode: 0o700 }); // root's alone: the app cannot read it, latchkey must
    const file = join(secrets, "db_password");
    writeFileSync(file, "pw-pid1-one", { mode: 0o600 });
    const out = join(d, "out");
    writeFileSync(out, "");
    chmodSync(out, 0o666);
    const render = join(d, "rendered");
    const app = `echo "start $(id -u):$(id -g) $DB_PASSWORD $(cat "$RENDER/DB_PASSWORD")" >> "$OUT"; exec sleep 60`;
    const { proc } = start("unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", LATCHKEY, "--user", "nobody",
      "--secrets-dir", secrets, "--debounce", "200ms", "--render", render, "--", "sh", "-c", app],
    { env: { PATH: process.env.PATH!, HOME: "/root", OUT: out, RENDER: render } });
    const starts = () => lines(out).filter((l) => l.startsWith("start "));
    try {
      await waitFor(() => starts().length === 1, "first start");
      expect(starts()[0]).toBe("start 65534:65534 pw-pid1-one pw-pid1-one");
      const next = join(secrets, ".next");
      writeFileSync(next, "pw-pid1-two", { mode: 0o600 });
      renameSync(next, file); // a new root-only file: read after the app started, by latchkey as root
      await waitFor(() => starts().length === 2, "restart as the app user");
      expect(starts()[1]).toBe("start 65534:65534 pw-pid1-two pw-pid1-two");
      const st = statSync(join(render, "DB_PASSWORD"));
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o400]); // fchown: root's privilege
    } finally {
      killQuietly(proc.pid); // --kill-child: latchkey (PID 1) and the namespace go with it
      await exited(proc);
    }
  });
});

function threadIds(pid: number): { Uid: string; Gid: string; Groups: string }[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    const f = statusFields(readFileSync(`/proc/${pid}/task/${t}/status`, "utf8"));
    return { Uid: f.Uid!.replace(/\s+/g, "\t"), Gid: f.Gid!.replace(/\s+/g, "\t"), Groups: f.Groups!.trim() };
  });
}
