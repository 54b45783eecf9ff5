/**
 * The *at() calls src/platform/libc.ts adds for src/fileset/: through syscall(2) with x86-64
 * numbers, and through glibc's functions elsewhere. Both must do the same thing and report
 * the same errno, on this machine (run in a node with FFI).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const libcModule = join(import.meta.dirname, "../../../src/platform/libc.ts");

function exercise(numbered: boolean): unknown {
  const code = `import { loadFileCalls, AT_REMOVEDIR, O_PATH } from ${JSON.stringify(libcModule)};
    import * as fs from "node:fs";
    import { tmpdir } from "node:os";
    const c = loadFileCalls(${numbered});
    const d = fs.mkdtempSync(tmpdir() + "/lk-calls-");
    const dfd = fs.openSync(d, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const r = {};
    const call = (k, v) => { r[k] = v < 0 ? "errno " + c.errno() : v >= 0 ? "ok" : v; };
    call("mkdirat", c.mkdirat(dfd, "sub", 0o700));
    call("mkdirat again", c.mkdirat(dfd, "sub", 0o700));
    r.subMode = (fs.statSync(d + "/sub").mode & 0o777).toString(8);
    const f = c.openat(dfd, "file", fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    r.openat = f >= 0; fs.writeSync(f, "hello"); fs.closeSync(f);
    call("openat O_EXCL again", c.openat(dfd, "file", fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
    call("openat missing", c.openat(dfd, "missing", fs.constants.O_RDONLY, 0));
    call("symlinkat", c.symlinkat("file", dfd, "link"));
    call("openat O_NOFOLLOW link", c.openat(dfd, "link", fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW, 0));
    const buf = Buffer.alloc(64);
    const n = c.readlinkat(dfd, "link", buf);
    r.readlinkat = buf.subarray(0, n).toString();
    const p = c.openat(dfd, "link", O_PATH | fs.constants.O_NOFOLLOW, 0);
    r.readlinkatPath = buf.subarray(0, c.readlinkat(p, "", buf)).toString();
    call("readlinkat not a link", c.readlinkat(dfd, "file", buf));
    call("renameat", c.renameat(dfd, "file", dfd, "moved"));
    r.moved = fs.readFileSync(d + "/moved", "utf8");
    call("unlinkat dir without AT_REMOVEDIR", c.unlinkat(dfd, "sub", 0));
    call("unlinkat dir", c.unlinkat(dfd, "sub", AT_REMOVEDIR));
    call("unlinkat file", c.unlinkat(dfd, "moved", 0));
    call("unlinkat missing", c.unlinkat(dfd, "moved", 0));
    r.left = fs.readdirSync(d);
    fs.rmSync(d, { recursive: true });
    process.stdout.write(JSON.stringify(r));`;
  const r = spawnSync(process.execPath, ["--experimental-ffi", "--no-warnings", "--input-type=module", "-e", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("descriptor-relative file calls (libc.ts)", () => {
  const expected = {
    mkdirat: "ok", "mkdirat again": "errno 17", subMode: "700", openat: true, "openat O_EXCL again": "errno 17",
    "openat missing": "errno 2", symlinkat: "ok", "openat O_NOFOLLOW link": "errno 40", readlinkat: "file", readlinkatPath: "file",
    "readlinkat not a link": "errno 22", renameat: "ok", moved: "hello", "unlinkat dir without AT_REMOVEDIR": "errno 21",
    "unlinkat dir": "ok", "unlinkat file": "ok", "unlinkat missing": "errno 2", left: ["link"],
  };
  it("through syscall(2) (x86-64 numbers)", () => {
    if (process.arch !== "x64") return void console.log("skipped: the numbered calls are x86-64's; this is %s", process.arch);
    expect(exercise(true)).toEqual(expected);
  });
  it("through glibc's functions (every other architecture)", () => {
    expect(exercise(false)).toEqual(expected);
  });
});
