/**
 * src/platform/libc.ts makes most of its calls as bare system calls through syscall(2) on
 * x86-64, and through glibc's functions elsewhere: both must answer as glibc's function of
 * the same name does, errno included. Run in a node with FFI (the test runner has none),
 * against glibc's own functions bound directly.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const libcModule = join(import.meta.dirname, "../../../src/platform/libc.ts");

/** Run `body` (an ES module) in a node with FFI; it gets `c` (latchkey's libc), `g(name, args)` (glibc's), `lib` and `ffi`. */
function runWithLibc(numbered: boolean, body: string, errnoVariable = true) {
  const code = `import { loadLibc } from ${JSON.stringify(libcModule)};
    const ffi = process.getBuiltinModule("node:ffi");
    const lib = new ffi.DynamicLibrary("libc.so.6");
    const g = (n, a, r = "int32") => lib.getFunction(n, { arguments: a, return: r });
    const c = loadLibc(${numbered}, { errnoVariable: ${errnoVariable} });
    ${body}`;
  return spawnSync(process.execPath, ["--experimental-ffi", "--no-warnings", "--input-type=module", "-e", code], { encoding: "utf8" });
}

/** runWithLibc, which must succeed; returns its stdout as JSON. */
function jsonFromLibc(numbered: boolean, body: string, errnoVariable = true): unknown {
  const r = runWithLibc(numbered, body, errnoVariable);
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

it("libc: glibc's errno variable, as dlsym finds it, is the main thread's errno", () => {
  const out = jsonFromLibc(true, `
    console.log(JSON.stringify({ variable: String(lib.getSymbol("errno")), location: String(g("__errno_location", [], "pointer")()) }));`);
  const { variable, location } = out as { variable: string; location: string };
  expect(location).not.toBe("0");
  expect(variable).toBe(location);
});

describe.each([
  ["system calls through syscall(2) (x86-64)", true, true],
  ["glibc's functions (other architectures)", false, true],
  ["system calls, errno through __errno_location (a libc without the errno variable)", true, false],
])("libc: %s, against glibc's functions", (_, numbered, errnoVariable) => {
  // every test below reads errno the way this case says
  const withLibc = (n: boolean, body: string) => jsonFromLibc(n, body, errnoVariable);
  it("_exit ends the process at once with the code's low byte; what was written stays written", () => {
    const r = runWithLibc(numbered, `
      process.on("exit", () => process.stdout.write("exit listener ran\\n"));
      (await import("node:fs")).writeSync(1, "before\\n");
      c._exit(${256 + 42});
      (await import("node:fs")).writeSync(1, "after\\n");`, errnoVariable);
    expect({ status: r.status, signal: r.signal, stdout: r.stdout }).toEqual({ status: 42, signal: null, stdout: "before\n" });
  });

  it("getpgrp and kill: same results, errno ESRCH for a group that does not exist", () => {
    const out = withLibc(numbered, `
      const none = -2147483000;
      const mine = c.kill(none, 0), mineErrno = c.errno();
      console.log(JSON.stringify({
        pgrp: [c.getpgrp(), g("getpgrp", [])()],
        self: [c.kill(process.pid, 0), g("kill", ["int32", "int32"])(process.pid, 0)],
        none: [mine, mineErrno],
      }));`) as Record<string, number[]>;
    expect(out.pgrp![0]).toBe(out.pgrp![1]);
    expect(out.pgrp![0]).toBeGreaterThan(0);
    expect(out.self).toEqual([0, 0]);
    expect(out.none).toEqual([-1, 3]);
  });

  it("fcntl reads and clears close-on-exec as glibc's does", () => {
    const out = withLibc(numbered, `
      const fs = await import("node:fs");
      const fd = fs.openSync("/dev/null", "r"); // Node opens with O_CLOEXEC
      const gf = g("fcntl", ["int32", "int32", "int32"]);
      const before = [c.fcntl(fd, 1, 0), gf(fd, 1, 0)];
      const set = c.fcntl(fd, 2, 0);
      const after = [c.fcntl(fd, 1, 0), gf(fd, 1, 0)];
      const bad = c.fcntl(987654, 1, 0), badErrno = c.errno();
      console.log(JSON.stringify({ before, set, after, bad: [bad, badErrno] }));`);
    expect(out).toEqual({ before: [1, 1], set: 0, after: [0, 0], bad: [-1, 9] }); // 9: EBADF
  });

  it("waitid with no children fails with ECHILD; posix_spawn, then waitpid, gives the child's exit status", () => {
    const out = withLibc(numbered, `
      const { spawnAttributes } = await import(${JSON.stringify(join(import.meta.dirname, "../../../src/platform/spawn.ts"))});
      const info = Buffer.alloc(128);
      const none = c.waitid(0, 0, info, 4 | 1), noneErrno = c.errno(); // P_ALL, WEXITED | WNOHANG
      const cstr = (s) => Buffer.from(s + "\\0");
      const ptr = ffi.getRawPointer;
      const strs = ["/bin/sh", "-c", "exit 7"].map(cstr);
      const argv = Buffer.alloc(8 * 4);
      strs.forEach((b, i) => argv.writeBigUInt64LE(ptr(b), 8 * i));
      const envp = Buffer.alloc(8);
      const pid = Buffer.alloc(4);
      const rc = c.posix_spawn(pid, strs[0], 0n, spawnAttributes(), argv, envp);
      const status = Buffer.alloc(4);
      const waited = c.waitpid(pid.readInt32LE(0), status, 0);
      const missing = c.posix_spawn(pid, cstr("/nonexistent/latchkey-test"), 0n, spawnAttributes(), argv, envp);
      console.log(JSON.stringify({ none: [none, noneErrno], rc, waited: waited === pid.readInt32LE(0), status: status.readInt32LE(0), missing }));`);
    expect(out).toEqual({ none: [-1, 10], rc: 0, waited: true, status: 7 << 8, missing: 2 }); // 2: ENOENT, returned (not in errno)
  });

  it("prctl sets the child subreaper flag that glibc's prctl reads back", () => {
    const out = withLibc(numbered, `
      const flag = Buffer.alloc(4);
      const set = c.prctl(36, 1n, 0n, 0n, 0n); // PR_SET_CHILD_SUBREAPER
      g("prctl", ["int32", "buffer", "uint64", "uint64", "uint64"])(37, flag, 0n, 0n, 0n); // PR_GET_CHILD_SUBREAPER
      console.log(JSON.stringify({ set, flag: flag.readInt32LE(0) }));`);
    expect(out).toEqual({ set: 0, flag: 1 });
  });

  it("sigprocmask unblocks through the system call, and blocks through glibc", () => {
    const out = withLibc(numbered, `
      const fs = await import("node:fs");
      const blocked = () => BigInt("0x" + /^SigBlk:\\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]);
      const usr2 = Buffer.alloc(128); usr2[1] = 1 << (12 - 1 - 8); // SIGUSR2 (12)
      const bit = 1n << 11n;
      const block = c.sigprocmask(0, usr2, Buffer.alloc(128)); // SIG_BLOCK: glibc's
      const whileBlocked = (blocked() & bit) !== 0n;
      const unblock = c.sigprocmask(1, usr2, Buffer.alloc(128)); // SIG_UNBLOCK: the system call
      const afterUnblock = (blocked() & bit) !== 0n;
      console.log(JSON.stringify({ block, whileBlocked, unblock, afterUnblock }));`);
    expect(out).toEqual({ block: 0, whileBlocked: true, unblock: 0, afterUnblock: false });
  });

  // the process boundary (src/platform/boundary.ts)
  it("prlimit reads and lowers RLIMIT_CORE as glibc's getrlimit sees it; errno EINVAL for a bad resource", () => {
    const out = withLibc(numbered, `
      const old = Buffer.alloc(16), seen = Buffer.alloc(16), next = Buffer.alloc(16);
      const got = c.prlimit(0, 4, null, old);
      next.writeBigUInt64LE(0n, 0); next.writeBigUInt64LE(old.readBigUInt64LE(8), 8);
      const set = c.prlimit(0, 4, next, null);
      g("getrlimit", ["int32", "buffer"])(4, seen);
      const bad = c.prlimit(0, 9999, null, old), badErrno = c.errno();
      console.log(JSON.stringify({ got, set, soft: String(seen.readBigUInt64LE(0)), hardKept: seen.readBigUInt64LE(8) === next.readBigUInt64LE(8), bad: [bad, badErrno] }));`);
    expect(out).toEqual({ got: 0, set: 0, soft: "0", hardKept: true, bad: [-1, 22] });
  });

  it("closeRange marks descriptors close-on-exec (x86-64), or fails so the caller walks /proc/self/fd", () => {
    const out = withLibc(numbered, `
      const fs = await import("node:fs");
      const fd = fs.openSync("/dev/null", "r");
      c.fcntl(fd, 2, 0); // clear close-on-exec
      const rc = c.closeRange(fd, fd, 4); // CLOSE_RANGE_CLOEXEC
      console.log(JSON.stringify({ rc, flags: c.fcntl(fd, 1, 0) }));`);
    expect(out).toEqual(numbered ? { rc: 0, flags: 1 } : { rc: -1, flags: 0 });
  });

  it("setresuidThread changes the calling thread's effective uid only (x86-64; fails elsewhere)", () => {
    if (process.getuid?.() !== 0) {
      console.log("skipped: needs root to change uids");
      return;
    }
    const out = withLibc(numbered, `
      const fs = await import("node:fs");
      const euids = () => fs.readdirSync("/proc/self/task").map((t) => fs.readFileSync("/proc/self/task/" + t + "/status", "utf8").match(/^Uid:\\s+(\\d+)\\s+(\\d+)/m)[2]);
      const main = () => fs.readFileSync("/proc/thread-self/status", "utf8").match(/^Uid:\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)/m).slice(1).join(",");
      const caps = () => fs.readFileSync("/proc/thread-self/status", "utf8").match(/^CapEff:\\s+(\\w+)/m)[1];
      const capsBefore = caps();
      const to = c.setresuidThread(0xffffffff, 65534, 0xffffffff);
      const during = main();
      const others = euids().filter((e) => e === "0").length;
      const back = c.setresuidThread(0xffffffff, 0, 0xffffffff);
      console.log(JSON.stringify({ to, during, othersStillRoot: others > 0, back, after: main(), capsBack: caps() === capsBefore }));`);
    expect(out).toEqual(numbered
      ? { to: 0, during: "0,65534,0", othersStillRoot: true, back: 0, after: "0,0,0", capsBack: true }
      : { to: -1, during: "0,0,0", othersStillRoot: true, back: -1, after: "0,0,0", capsBack: true });
  });
});
