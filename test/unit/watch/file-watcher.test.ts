import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync, appendFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileWatcher, targetsFor } from "../../../src/watch/file-watcher.ts";
import { fileStamp } from "../../../src/watch/file-state.ts";
import { kubeWrite } from "../../helpers/kube-volume.ts";

let dir: string;
let fw: FileWatcher | null = null;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-fw-")));
});
afterEach(() => {
  fw?.close();
  fw = null;
  rmSync(dir, { recursive: true, force: true });
});

function watcher(paths: string[]): { hints: string[]; waitFor: (pred: (h: string) => boolean, ms?: number) => Promise<void> } {
  const hints: string[] = [];
  fw = new FileWatcher({ onHint: (p) => hints.push(p), rearmDelay: 10 });
  fw.watch(paths);
  const waitFor = async (pred: (h: string) => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (hints.some(pred)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no matching hint within ${ms} ms; got ${JSON.stringify(hints)}`);
  };
  return { hints, waitFor };
}
const settle = () => new Promise((r) => setTimeout(r, 80));

describe("FileWatcher", () => {
  it("sees kubelet's atomic ..data swap through the key's symlink, twice in a row", async () => {
    const vol = join(dir, "vol");
    kubeWrite(vol, { db_password: "one" });
    const w = watcher([join(vol, "db_password")]);
    await settle();
    kubeWrite(vol, { db_password: "two" });
    await w.waitFor((h) => h.startsWith(vol));
    await settle();
    w.hints.length = 0;
    kubeWrite(vol, { db_password: "three" });
    await w.waitFor((h) => h.startsWith(vol));
  });

  it("sees an in-place write, then a replacement by rename, then an in-place write to the new inode", async () => {
    const f = join(dir, "api_key");
    writeFileSync(f, "v1");
    const w = watcher([f]);
    await settle();
    appendFileSync(f, "more");
    await w.waitFor((h) => h === f);
    writeFileSync(join(dir, ".api_key.tmp"), "v2");
    w.hints.length = 0;
    renameSync(join(dir, ".api_key.tmp"), f);
    await w.waitFor((h) => h === f);
    await settle();
    w.hints.length = 0;
    appendFileSync(f, "v3");
    await w.waitFor((h) => h === f);
  });

  it("watches a directory, and a path that appears later", async () => {
    const secrets = join(dir, "run", "secrets");
    const w = watcher([secrets]);
    expect(fw!.watched).toEqual([dir]);
    mkdirSync(join(dir, "run"));
    await w.waitFor((h) => h === join(dir, "run"));
    await settle();
    mkdirSync(secrets);
    await settle();
    await settle();
    expect(fw!.watched).toContain(secrets);
    writeFileSync(join(secrets, "token"), "x");
    await w.waitFor((h) => h === join(secrets, "token"));
  });

  it("ignores unrelated files next to a watched file or on the way to a missing path", async () => {
    const f = join(dir, "db_password");
    writeFileSync(f, "x");
    const w = watcher([f, join(dir, "later", "token")]);
    await settle();
    writeFileSync(join(dir, "app.log"), "noise");
    writeFileSync(join(dir, "other-secret"), "noise");
    mkdirSync(join(dir, "elsewhere"));
    await settle();
    expect(w.hints).toEqual([]);
    mkdirSync(join(dir, "later"));
    await w.waitFor((h) => h === join(dir, "later"));
  });

  it("targets: parent directory, the file, symlink hops and their targets", () => {
    const vol = join(dir, "vol");
    kubeWrite(vol, { k: "v" });
    const t = targetsFor(join(vol, "k"));
    expect(t).toContain(vol);
    expect(t).toContain(join(vol, "k"));
    expect(t.some((p) => p.startsWith(join(vol, "..2026")))).toBe(true);
  });

  it("file stamps change on in-place writes and replacement, not on reads", () => {
    const f = join(dir, "s");
    writeFileSync(f, "a");
    const s1 = fileStamp(f);
    expect(fileStamp(f)).toBe(s1);
    appendFileSync(f, "b");
    const s2 = fileStamp(f);
    expect(s2).not.toBe(s1);
    writeFileSync(join(dir, "t"), "ab");
    renameSync(join(dir, "t"), f);
    expect(fileStamp(f)).not.toBe(s2);
    expect(fileStamp(join(dir, "nope"))).toBe("missing:ENOENT");
  });
});
