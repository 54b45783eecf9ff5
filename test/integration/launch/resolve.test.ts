/**
 * COMMAND resolution happens before anything starts: 127 when it is not found, 126 when it
 * is found but cannot be executed, with a one-line message naming it; the same in both modes.
 */
import { chmodSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey, run } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/processes.ts";

const dir = tempDir();
const notExec = join(dir, "not-exec.sh");
writeFileSync(notExec, "#!/bin/sh\nexit 0\n");
chmodSync(notExec, 0o644);
const subdir = join(dir, "a-directory");
mkdirSync(subdir);
const badInterp = join(dir, "bad-interpreter.sh");
writeFileSync(badInterp, "#!/nonexistent/interpreter\nexit 0\n");
chmodSync(badInterp, 0o755);
const garbage = join(dir, "garbage");
writeFileSync(garbage, "\x7fELF not really an executable\n");
chmodSync(garbage, 0o755);
// no #! line: the kernel says ENOEXEC; execvp would quietly run it with /bin/sh instead
const noShebang = join(dir, "no-shebang");
writeFileSync(noShebang, "echo should-not-run\n");
chmodSync(noShebang, 0o755);
const crlf = join(dir, "windows-entrypoint.sh");
writeFileSync(crlf, "#!/bin/sh\r\necho should-not-run\r\n");
chmodSync(crlf, 0o755);
const empty = join(dir, "empty");
writeFileSync(empty, "");
chmodSync(empty, 0o755);
// a real binary whose program interpreter (ld.so) is missing, as a musl binary in a glibc image
const realInterp = "/lib64/ld-linux-x86-64.so.2";
const otherLibc = join(dir, "other-libc");
const trueBin = readFileSync(realpathSync("/bin/true"));
const at = trueBin.indexOf(realInterp);
writeFileSync(otherLibc, Buffer.concat([trueBin.subarray(0, at), Buffer.from(realInterp.replace("linux", "nolib")), trueBin.subarray(at + realInterp.length)]));
chmodSync(otherLibc, 0o755);
if (at === -1) console.warn(`skipping the missing-ld.so test: /bin/true does not use ${realInterp} on this machine`);
// a PATH entry with a non-executable file of that name: found but not runnable
const pathDir = join(dir, "bin");
mkdirSync(pathDir);
writeFileSync(join(pathDir, "only-here"), "#!/bin/sh\nexit 0\n");
chmodSync(join(pathDir, "only-here"), 0o644);

function oneLine(stderr: string): string {
  const l = stderr.split("\n").filter(Boolean);
  expect(l).toHaveLength(1);
  return l[0]!;
}

describe.each([["supervise", []], ["exec", ["--exec"]], ["supervise through the shim", ["--user", "0:0"]]] as const)("%s mode", (_mode, flags) => {
  it("command not found on PATH → 127", async () => {
    const r = await latchkey([...flags, "--", "no-such-command-latchkey-test"]);
    expect(r.code).toBe(127);
    expect(oneLine(r.stderr)).toMatch(/^latchkey: .*no-such-command-latchkey-test.*not found/);
  });

  it("absolute path that does not exist → 127", async () => {
    const r = await latchkey([...flags, "--", join(dir, "missing")]);
    expect(r.code).toBe(127);
    expect(oneLine(r.stderr)).toContain(join(dir, "missing"));
  });

  it("file without execute permission → 126", async () => {
    const r = await latchkey([...flags, "--", notExec]);
    expect(r.code).toBe(126);
    expect(oneLine(r.stderr)).toContain(notExec);
  });

  it("directory → 126", async () => {
    const r = await latchkey([...flags, "--", subdir]);
    expect(r.code).toBe(126);
    expect(oneLine(r.stderr)).toMatch(/is a directory/);
  });

  it("found on PATH but not executable → 126", async () => {
    const r = await latchkey([...flags, "--", "only-here"], { env: { ...process.env, PATH: `${pathDir}:/usr/bin:/bin` } });
    expect(r.code).toBe(126);
    expect(oneLine(r.stderr)).toContain(join(pathDir, "only-here"));
  });

  it("script with CRLF line endings → 127, saying so (not a baffling 'no such file')", async () => {
    const r = await latchkey([...flags, "--", crlf]);
    expect(r.code).toBe(127);
    expect(oneLine(r.stderr)).toMatch(/carriage return \(CRLF line endings/);
    expect(r.stdout).toBe("");
  });

  it("script whose interpreter is missing → 127", async () => {
    const r = await latchkey([...flags, "--", badInterp]);
    expect(r.code).toBe(127);
    expect(oneLine(r.stderr)).toContain(badInterp);
  });

  it.each([
    ["a truncated ELF header", garbage],
    ["a text file without #! line", noShebang],
    ["an empty file", empty],
  ])("executable bit on %s → 126 (exec format error), nothing runs", async (_what, file) => {
    const r = await latchkey([...flags, "--", file]);
    expect(r.code).toBe(126);
    expect(oneLine(r.stderr)).toMatch(/exec format error/);
    expect(r.stdout).toBe("");
  });

  it.skipIf(at === -1)("ELF binary whose program interpreter is missing → 127, naming the interpreter", async () => {
    const r = await latchkey([...flags, "--", otherLibc]);
    expect(r.code).toBe(127);
    expect(oneLine(r.stderr)).toContain("/lib64/ld-nolib-x86-64.so.2");
  });

  it("a binary on a noexec mount → 126 (execve's EACCES, after every check passed)", async () => {
    const mnt = tempDir();
    const script = `mount -t tmpfs -o noexec tmpfs '${mnt}' && cp /bin/true '${mnt}/true' && exec "$@"`;
    const r = await run("unshare", ["--mount", "sh", "-c", script, "sh", LATCHKEY, ...flags, "--", join(mnt, "true")]);
    expect(r.code).toBe(126);
    expect(oneLine(r.stderr)).toMatch(/permission denied \(is it on a noexec mount\?\)/);
  });

  it("PATH lookup finds the command and passes its arguments", async () => {
    const r = await latchkey([...flags, "--", "sh", "-c", "echo \"$0:$1\"", "zero", "one"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("zero:one\n");
  });
});

describe("errors raised in the exec shim", () => {
  it("follow --log-format and --log-level like the supervisor's own", async () => {
    const mnt = tempDir();
    const script = `mount -t tmpfs -o noexec tmpfs '${mnt}' && cp /bin/true '${mnt}/true' && exec "$@"`;
    const json = await run("unshare", ["--mount", "sh", "-c", script, "sh", LATCHKEY, "--user", "0:0", "--log-format", "json", "--", join(mnt, "true")]);
    expect(json.code).toBe(126);
    const rec = JSON.parse(oneLine(json.stderr)) as Record<string, string>;
    expect(rec).toMatchObject({ level: "error", src: "latchkey", code: "not_executable" });
    const silent = await run("unshare", ["--mount", "sh", "-c", script, "sh", LATCHKEY, "--user", "0:0", "--log-level", "silent", "--", join(mnt, "true")]);
    expect(silent.code).toBe(126);
    expect(silent.stderr).toBe("");
  });
});
