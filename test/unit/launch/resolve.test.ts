import { chmodSync, copyFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isExecutableBy, resolveCommand } from "../../../src/launch/resolve.ts";
import { tempDir } from "../../helpers/processes.ts";

const root = { uid: 0, gid: 0, groups: [0] };
const d = tempDir();
const a = join(d, "a");
const b = join(d, "b");
mkdirSync(a);
mkdirSync(b);
const script = (p: string, mode: number) => {
  writeFileSync(p, "#!/bin/sh\nexit 0\n");
  chmodSync(p, mode);
};
script(join(a, "tool"), 0o644); // found first, not executable
script(join(b, "tool"), 0o755);
script(join(a, "only-a"), 0o644);
mkdirSync(join(b, "dir-cmd"));
script(join(b, "owner-only"), 0o700);
script(join(b, "group-only"), 0o750);
const bin = join(b, "true");
copyFileSync("/bin/true", bin);
chmodSync(bin, 0o755);

describe("resolveCommand", () => {
  it("takes the first executable match in PATH order, skipping non-executable ones", () => {
    expect(resolveCommand("tool", `${a}:${b}`, root)).toBe(join(b, "tool"));
  });

  it("only non-executable matches → 126 naming the first", () => {
    expect(() => resolveCommand("only-a", `${a}:${b}`, root)).toThrow(`${join(a, "only-a")}: permission denied`);
    try {
      resolveCommand("only-a", `${a}:${b}`, root);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(126);
    }
  });

  it("no match → 127", () => {
    expect(() => resolveCommand("nope", `${a}:${b}`, root)).toThrow("nope: command not found in PATH");
    try {
      resolveCommand("nope", `${a}:${b}`, root);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(127);
    }
  });

  it("a directory on PATH is not a command", () => {
    expect(() => resolveCommand("dir-cmd", b, root)).toThrow(/is a directory/);
  });

  it("a name with a slash is used as is, without PATH", () => {
    expect(resolveCommand(bin, "/nonexistent", root)).toBe(bin);
    expect(() => resolveCommand(join(d, "missing"), b, root)).toThrow(/no such file/);
  });

  it("unset or empty PATH falls back to the usual system directories", () => {
    expect(resolveCommand("sh", undefined, root)).toMatch(/\/sh$/);
    expect(resolveCommand("sh", "", root)).toMatch(/\/sh$/);
  });

  it("an empty PATH entry means the current directory, as in execvp", () => {
    const cwd = process.cwd();
    try {
      process.chdir(b);
      // with a slash, so that spawn's execvp does not search PATH again and find /bin/true
      expect(resolveCommand("true", ":/nonexistent", root)).toBe("./true");
    } finally {
      process.chdir(cwd);
    }
  });

  it("checks execute permission for the user the app will run as, not for latchkey", () => {
    const owner = statSync(join(b, "owner-only"));
    const other = { uid: 4242, gid: 4242, groups: [4242] };
    const inGroup = { uid: 4242, gid: 4242, groups: [4242, owner.gid] };
    expect(() => resolveCommand("owner-only", b, other)).toThrow(/not executable for the app user/);
    expect(() => resolveCommand("group-only", b, other)).toThrow(/not executable for the app user/);
    expect(resolveCommand("group-only", b, inGroup)).toBe(join(b, "group-only"));
    expect(resolveCommand("owner-only", b, { uid: owner.uid, gid: 1, groups: [] })).toBe(join(b, "owner-only"));
  });
});

describe("directories the app user cannot enter", () => {
  const priv = join(d, "private");
  mkdirSync(priv, { mode: 0o700 });
  chmodSync(priv, 0o700);
  script(join(priv, "tool"), 0o755);
  const user = { uid: 4242, gid: 4242, groups: [4242] };

  it("a path through a directory the user may not search → 126 naming the directory", () => {
    expect(() => resolveCommand(join(priv, "tool"), "", user)).toThrow(`cannot enter directory ${priv}`);
    try {
      resolveCommand(join(priv, "tool"), "", user);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(126);
    }
  });

  it("a PATH entry the user cannot enter is passed over for the next one", () => {
    expect(resolveCommand("tool", `${priv}:${b}`, user)).toBe(join(b, "tool"));
    expect(() => resolveCommand("tool", priv, user)).toThrow(/cannot enter directory/);
  });

  it("root enters anything", () => {
    expect(resolveCommand(join(priv, "tool"), "", root)).toBe(join(priv, "tool"));
  });
});

describe("isExecutableBy", () => {
  const st = (mode: number, uid = 1, gid = 2) => ({ isFile: () => true, mode, uid, gid }) as unknown as import("node:fs").Stats;
  it("owner bits for the owner, group bits for the group, other bits otherwise; root needs any x bit", () => {
    expect(isExecutableBy(st(0o100), { uid: 1, gid: 9, groups: [] })).toBe(true);
    expect(isExecutableBy(st(0o011), { uid: 1, gid: 9, groups: [] })).toBe(false); // owner bits decide for the owner
    expect(isExecutableBy(st(0o010), { uid: 5, gid: 2, groups: [] })).toBe(true);
    expect(isExecutableBy(st(0o010), { uid: 5, gid: 9, groups: [2] })).toBe(true);
    expect(isExecutableBy(st(0o101), { uid: 5, gid: 2, groups: [] })).toBe(false); // group bits decide for the group
    expect(isExecutableBy(st(0o001), { uid: 5, gid: 9, groups: [] })).toBe(true);
    expect(isExecutableBy(st(0o001), { uid: 0, gid: 0, groups: [] })).toBe(true);
    expect(isExecutableBy(st(0o644), { uid: 0, gid: 0, groups: [] })).toBe(false);
  });
});

describe("format check", () => {
  const notElf = join(d, "not-elf");
  writeFileSync(notElf, "plain text\n");
  chmodSync(notElf, 0o755);
  const badShebang = join(d, "bad-shebang");
  writeFileSync(badShebang, "#!/no/such/interpreter -x\n");
  chmodSync(badShebang, 0o755);
  const nonExecInterp = join(d, "non-exec-interp");
  writeFileSync(nonExecInterp, `#!${join(a, "tool")}\n`);
  chmodSync(nonExecInterp, 0o755);
  const crlf = join(d, "crlf");
  writeFileSync(crlf, "#!/bin/sh\r\necho hi\r\n");
  chmodSync(crlf, 0o755);
  const crlfEnv = join(d, "crlf-env");
  writeFileSync(crlfEnv, "#!/usr/bin/env sh\r\necho hi\r\n");
  chmodSync(crlfEnv, 0o755);
  const emptyShebang = join(d, "empty-shebang");
  writeFileSync(emptyShebang, "#!   \n");
  chmodSync(emptyShebang, 0o755);

  it.each([
    [notElf, 126, /exec format error/],
    [badShebang, 127, /interpreter \/no\/such\/interpreter \(#! line\) is not found/],
    [nonExecInterp, 126, /interpreter .* is not executable/],
    [emptyShebang, 126, /empty #! line/],
    [crlf, 127, /carriage return \(CRLF line endings/],
    [crlfEnv, 127, /carriage return/],
  ])("%s → %i", (file, code, message) => {
    expect(() => resolveCommand(file, "", root)).toThrow(message);
    try {
      resolveCommand(file, "", root);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(code);
    }
  });

  it("a real ELF binary and a script with a working #! line pass", () => {
    expect(resolveCommand(bin, "", root)).toBe(bin);
    expect(resolveCommand(join(b, "tool"), "", root)).toBe(join(b, "tool"));
  });
});

describe("elfInterpreter", () => {
  it("reads PT_INTERP of a dynamic binary; a truncated header is not loadable (undefined)", async () => {
    const { elfInterpreter } = await import("../../../src/launch/format.ts");
    const { readFileSync } = await import("node:fs");
    const head = readFileSync(bin).subarray(0, 4096);
    expect(elfInterpreter(bin, head)).toMatch(/^\/lib.*ld-.*\.so/);
    expect(elfInterpreter(bin, head.subarray(0, 20))).toBeUndefined();
  });
});
