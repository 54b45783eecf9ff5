/**
 * src/platform/libc.ts threadCredentials(): the bare set*id/get*id system calls change and
 * read the calling thread only (glibc's change every thread). Run as root in a node with FFI
 * (the test runner has none); every thread's ids are read from /proc/self/task.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const libcModule = join(import.meta.dirname, "../../../src/platform/libc.ts");

it("threadCredentials: the main thread takes real ids and groups alone, reads them back, and returns (x86-64, root)", () => {
  if (process.getuid?.() !== 0 || process.arch !== "x64") {
    console.log("skipped: needs root on x86-64 to change a thread's ids");
    return;
  }
  const code = `import { threadCredentials } from ${JSON.stringify(libcModule)};
    const fs = await import("node:fs");
    await fs.promises.readFile("/proc/self/status"); // libuv's pool threads exist from here on
    const field = (t, k) => fs.readFileSync("/proc/self/task/" + t + "/status", "utf8").match(new RegExp("^" + k + ":[ \\\\t]*(.*)$", "m"))[1].trim().split(/\\s+/).join(",");
    const others = () => fs.readdirSync("/proc/self/task").filter((t) => t !== String(process.pid)).map((t) => field(t, "Uid") + "/" + field(t, "Gid") + "/" + field(t, "Groups"));
    const tc = threadCredentials();
    const before = { u: tc.getresuid(), g: tc.getresgid(), groups: tc.getgroups() };
    const steps = [tc.setgroups([4242, 5001]), tc.setresgid(4242, 0xffffffff, 0xffffffff), tc.setresuid(4242, 0xffffffff, 0xffffffff)];
    const during = { u: tc.getresuid(), g: tc.getresgid(), groups: tc.getgroups(), main: field(process.pid, "Uid"), caps: field(process.pid, "CapEff") };
    const othersDuring = others();
    const back = [tc.setresuid(...before.u), tc.setresgid(...before.g), tc.setgroups(before.groups)];
    const after = { u: tc.getresuid(), g: tc.getresgid(), groups: tc.getgroups() };
    const bad = tc.setresuid(4242, 4242, 4242) === 0 && tc.setresuid(0, 0, 0); // all non-root: root is gone for this thread
    console.log(JSON.stringify({ before, steps, during, othersDuring, back, after, bad, errno: tc.errno() }));`;
  const r = spawnSync(process.execPath, ["--experimental-ffi", "--no-warnings", "--input-type=module", "-e", code], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.before.u).toEqual([0, 0, 0]);
  expect(out.steps).toEqual([0, 0, 0]);
  expect(out.during.u).toEqual([4242, 0, 0]);
  expect(out.during.g).toEqual([4242, 0, 0]);
  expect(out.during.groups).toEqual([4242, 5001]);
  expect(out.during.main).toBe("4242,0,0,0");
  expect(out.during.caps).not.toBe("0000000000000000"); // effective uid 0: the thread keeps root's capabilities
  expect(out.othersDuring.length).toBeGreaterThan(0);
  for (const t of out.othersDuring) expect(t).toMatch(/^0,0,0,0\/0,0,0,0\//);
  expect(out.back).toEqual([0, 0, 0]);
  expect(out.after).toEqual(out.before);
  expect([out.bad, out.errno]).toEqual([-1, 1]); // EPERM
});
