/**
 * latchkey fills glibc's posix_spawnattr_t itself (src/platform/spawn.ts): the bytes must be
 * exactly what glibc's own posix_spawnattr_init/_setflags/_setsigmask/_setsigdefault make,
 * and glibc must read them back as the flags and signal sets latchkey meant.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SPAWNATTR, spawnAttributes } from "../../../src/platform/spawn.ts";
import { SIGSET_BYTES, sigset } from "../../../src/platform/sigmask.ts";

/** Run `body` in a node with FFI; it gets `lib` (libc) and `ffi`, and prints hex. */
function withLibc(body: string): string {
  const code = `const ffi = require("node:ffi"); const lib = new ffi.DynamicLibrary("libc.so.6");
    const f = (n, a) => lib.getFunction(n, { arguments: a, return: "int32" });
    ${body}`;
  const r = spawnSync(process.execPath, ["--experimental-ffi", "--no-warnings", "-e", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

describe("posix_spawnattr_t filled by latchkey", () => {
  it("has the size glibc's header gives it", () => {
    // short __flags, 2 bytes of padding, pid_t __pgrp, 2 sigsets, sched_param, __policy, int __pad[16]
    expect(SPAWNATTR.bytes).toBe(2 + 2 + 4 + 2 * SIGSET_BYTES + 4 + 4 + 16 * 4);
  });

  it("is byte for byte what glibc's setters make from the same flags and sets", () => {
    const sd = sigset([1, 2, 3, 15, 17, 32, 33, 64]);
    const glibc = withLibc(`
      const a = Buffer.alloc(${SPAWNATTR.bytes} + 64, 0xaa); // room to see an overrun
      if (f("posix_spawnattr_init", ["buffer"])(a) !== 0) throw new Error("init");
      if (f("posix_spawnattr_setflags", ["buffer", "int16"])(a, 0x80 | 0x04 | 0x08) !== 0) throw new Error("flags");
      if (f("posix_spawnattr_setsigmask", ["buffer", "buffer"])(a, Buffer.alloc(${SIGSET_BYTES})) !== 0) throw new Error("mask");
      if (f("posix_spawnattr_setsigdefault", ["buffer", "buffer"])(a, Buffer.from("${sd.toString("hex")}", "hex")) !== 0) throw new Error("sd");
      console.log(a.subarray(0, ${SPAWNATTR.bytes}).toString("hex"));`);
    expect(glibc).toBe(spawnAttributes(sd).toString("hex"));
  });

  it("by default resets every signal but SIGKILL and SIGSTOP (1-64, glibc's internal 32 and 33 included)", () => {
    const sd = spawnAttributes().subarray(SPAWNATTR.sigdefault, SPAWNATTR.sigdefault + SIGSET_BYTES);
    const all = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => n !== 9 && n !== 19);
    expect(sd.toString("hex")).toBe(sigset(all).toString("hex"));
  });

  it("reads back through glibc's getters as the flags, mask and defaults latchkey set", () => {
    const sd = sigset([9 + 1, 20, 31, 40]);
    const back = withLibc(`
      const a = Buffer.from("${spawnAttributes(sd).toString("hex")}", "hex");
      const flags = Buffer.alloc(2), mask = Buffer.alloc(${SIGSET_BYTES}, 0xff), def = Buffer.alloc(${SIGSET_BYTES});
      f("posix_spawnattr_getflags", ["buffer", "buffer"])(a, flags);
      f("posix_spawnattr_getsigmask", ["buffer", "buffer"])(a, mask);
      f("posix_spawnattr_getsigdefault", ["buffer", "buffer"])(a, def);
      console.log([flags.readInt16LE(0), mask.toString("hex"), def.toString("hex")].join(" "));`);
    const [flags, mask, def] = back.split(" ");
    expect(Number(flags)).toBe(0x80 | 0x04 | 0x08); // SETSID | SETSIGDEF | SETSIGMASK
    expect(mask).toBe("00".repeat(SIGSET_BYTES));
    expect(def).toBe(sd.toString("hex"));
  });
});
