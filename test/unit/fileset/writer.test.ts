/**
 * The file-set writer (src/fileset/): layout, switch, and its refusals. It needs node:ffi (the
 * *at() calls), which the test runner lacks: each case runs in a node with --experimental-ffi,
 * and prints JSON. Without FFI it must fail closed (checked here, in the runner itself).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, chownSync, lstatSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const writerModule = join(import.meta.dirname, "../../../src/fileset/writer.ts");
const root = process.getuid!() === 0;

/** Run `body` with `FileSetWriter` in scope, in a node with FFI; `out(v)` prints the result. */
function inFfi(body: string, ffi = true): { result?: unknown; error?: { errno: string; message: string } } {
  const code = `import { FileSetWriter } from ${JSON.stringify(writerModule)};
    const out = (v) => process.stdout.write(JSON.stringify({ result: v }));
    try { ${body} } catch (e) { process.stdout.write(JSON.stringify({ error: { errno: e.errno, message: e.message } })); }`;
  const r = spawnSync(process.execPath, [ffi ? "--experimental-ffi" : "--no-experimental-ffi", "--no-warnings", "--input-type=module", "-e", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { result?: unknown; error?: { errno: string; message: string } };
}

const write = (dir: string, files: Record<string, string>, owner?: { uid: number; gid: number }) =>
  inFfi(`const w = new FileSetWriter({ dir: ${JSON.stringify(dir)}, label: "--render"${owner ? `, owner: ${JSON.stringify(owner)}` : ""} });
    out(w.write(Object.entries(${JSON.stringify(files)}).map(([name, data]) => ({ name, data }))));`);

let base: string;
afterEach(() => rmSync(base, { recursive: true, force: true }));
function tmp(): string {
  base = mkdtempSync(join(tmpdir(), "lk-fileset-"));
  chmodSync(base, 0o755);
  return base;
}

describe("FileSetWriter", () => {
  it("writes the set into a fresh directory behind ..data; DIR/NAME are links; a new set replaces the old whole", () => {
    const dir = join(tmp(), "a", "out");
    expect(write(dir, { DB_PASSWORD: "one", API_KEY: "k1" })).toEqual({ result: { written: 2, removed: 0 } });
    expect(statSync(join(base, "a")).mode & 0o777).toBe(0o755); // a missing parent: traversable
    expect(statSync(dir).mode & 0o777).toBe(0o700); // DIR itself (no app owner given): private
    const set1 = readlinkSync(join(dir, "..data"));
    expect(set1).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[0-9a-f]+$/);
    expect(readlinkSync(join(dir, "DB_PASSWORD"))).toBe("..data/DB_PASSWORD");
    expect(readFileSync(join(dir, "DB_PASSWORD"), "utf8")).toBe("one");
    expect(statSync(join(dir, set1, "DB_PASSWORD")).mode & 0o777).toBe(0o400);
    expect(statSync(join(dir, set1)).mode & 0o777).toBe(0o700);

    expect(write(dir, { DB_PASSWORD: "two" })).toEqual({ result: { written: 1, removed: 1 } });
    const set2 = readlinkSync(join(dir, "..data"));
    expect(set2).not.toBe(set1);
    expect(readFileSync(join(dir, "DB_PASSWORD"), "utf8")).toBe("two");
    expect(readdirSync(dir).sort()).toEqual([set2, "..data", "DB_PASSWORD"].sort()); // old set, API_KEY, temp links: gone
  });

  it("replaces a file of the old layout (DIR/NAME a regular file) by the link", () => {
    const dir = join(tmp(), "out");
    mkdirSync(dir, { mode: 0o700 });
    rmSync(join(dir, "X"), { force: true });
    writeFileSync(join(dir, "X"), "old layout");
    expect(write(dir, { X: "new" }).result).toEqual({ written: 1, removed: 0 });
    expect(lstatSync(join(dir, "X")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "X"), "utf8")).toBe("new");
  });

  it("remove(): a failed start takes away everything it rendered, and DIR when it created it", () => {
    const dir = join(tmp(), "created");
    const r = inFfi(`const w = new FileSetWriter({ dir: ${JSON.stringify(dir)}, label: "--render" });
      w.write([{ name: "A", data: "a" }]); w.remove(); out(true);`);
    expect(r).toEqual({ result: true });
    expect(readdirSync(base)).toEqual([]);
  });

  it.each([["world-writable", 0o777], ["world-writable and sticky (like /tmp)", 0o1777]])("refuses a %s DIR, untouched", (_what, mode) => {
    const dir = join(tmp(), "ww");
    mkdirSync(dir);
    chmodSync(dir, mode);
    const r = write(dir, { A: "a" });
    expect(r.error?.errno).toBe("REFUSED");
    expect(r.error?.message).toMatch(/ww: is writable by every user \(mode \d+\); refusing to write --render files there/);
    expect(readdirSync(dir)).toEqual([]);
    expect(statSync(dir).mode & 0o7777).toBe(mode);
  });

  it("refuses a DIR owned by someone who is neither root nor the app user, and does not chown it", () => {
    if (!root) return void console.log("skipped: a directory owned by another uid needs root to set up (this run is uid %d)", process.getuid!());
    const dir = join(tmp(), "foreign");
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, 4242, 4242);
    const r = write(dir, { A: "a" }, { uid: 65534, gid: 65534 });
    expect(r.error?.errno).toBe("REFUSED");
    expect(r.error?.message).toContain("is owned by uid 4242, neither root nor the app user");
    expect(statSync(dir).uid).toBe(4242);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("accepts a DIR the app user owns, and leaves its owner as it was", () => {
    if (!root) return void console.log("skipped: a directory owned by the app uid needs root to set up (this run is uid %d)", process.getuid!());
    const dir = join(tmp(), "apps");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    expect(write(dir, { A: "a" }, { uid: 65534, gid: 65534 }).result).toEqual({ written: 1, removed: 0 });
    expect(statSync(dir).uid).toBe(65534);
    const st = statSync(join(dir, "A"));
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o400]);
  });

  it("refuses a symlink in the path that another user could have planted; follows root's own (like /var/run -> /run)", () => {
    if (!root) return void console.log("skipped: symlinks owned by another uid need root to set up (this run is uid %d)", process.getuid!());
    const b = tmp();
    mkdirSync(join(b, "real"), { mode: 0o755 });
    // a link owned by another user, in a root-owned directory
    symlinkSync(join(b, "real"), join(b, "theirs"));
    lchownSync(join(b, "theirs"), 65534, 65534);
    // a root-owned link in a directory another user owns (they could swap it)
    mkdirSync(join(b, "apphome"), { mode: 0o755 });
    chownSync(join(b, "apphome"), 65534, 65534);
    symlinkSync(join(b, "real"), join(b, "apphome", "link"));
    // a root-owned link in a world-writable, non-sticky directory
    mkdirSync(join(b, "open"), { mode: 0o777 });
    chmodSync(join(b, "open"), 0o777);
    symlinkSync(join(b, "real"), join(b, "open", "link"));
    for (const via of [join(b, "theirs", "out"), join(b, "apphome", "link", "out"), join(b, "open", "link", "out")]) {
      const r = write(via, { A: "a" });
      expect(r.error?.errno, via).toBe("REFUSED");
      expect(r.error?.message).toMatch(/is a symlink that another user could have planted .*refusing to follow it/);
    }
    expect(readdirSync(join(b, "real"))).toEqual([]);
    // root's link in root's 0755 directory: followed
    symlinkSync("real", join(b, "ours"));
    expect(write(join(b, "ours", "out"), { A: "a" }).result).toEqual({ written: 1, removed: 0 });
    expect(readFileSync(join(b, "real", "out", "A"), "utf8")).toBe("a");
  });

  it("without node:ffi it fails closed, naming why (no fallback to paths)", () => {
    const dir = join(tmp(), "noffi");
    const r = inFfi(`const w = new FileSetWriter({ dir: ${JSON.stringify(dir)}, label: "--render" }); out(w.write([{ name: "A", data: "a" }]));`, false);
    expect(r.error?.errno).toBe("ENOSYS");
    expect(r.error?.message).toMatch(/^--render: writing files where another user can write needs descriptor-relative system calls, and node:ffi is unavailable \(.+\); run the single executable, or node with --experimental-ffi$/);
    expect(readdirSync(base)).toEqual([]);
  });

  it("refuses names that are not one plain file", () => {
    const r = write(join(tmp(), "n"), { "../evil": "x" });
    expect(r.error?.errno).toBe("REFUSED");
  });
});
