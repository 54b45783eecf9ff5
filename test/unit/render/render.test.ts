import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Renderer, renderableName } from "../../../src/render/render.ts";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// src/fileset/ needs node:ffi; this Node has it without a flag (test/unit/fileset/ checks the case without).
describe("Renderer", () => {
  it("writes each secret 0400 in a 0700 dir, replaces atomically, removes secrets that are gone", () => {
    dir = mkdtempSync(join(tmpdir(), "lk-render-"));
    const out = join(dir, "rendered");
    const r = new Renderer(out);
    expect(r.render({ DB_PASSWORD: "one", API_KEY: "k1", "../evil": "x" })).toEqual({ written: 2, removed: 0 });
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(statSync(join(out, "DB_PASSWORD")).mode & 0o777).toBe(0o400);
    expect(readFileSync(join(out, "DB_PASSWORD"), "utf8")).toBe("one");
    const ino = statSync(join(out, "DB_PASSWORD")).ino;
    expect(r.render({ DB_PASSWORD: "two" })).toEqual({ written: 1, removed: 1 });
    expect(readFileSync(join(out, "DB_PASSWORD"), "utf8")).toBe("two");
    expect(statSync(join(out, "DB_PASSWORD")).ino).not.toBe(ino); // a new file in a new set, not rewritten
    // DIR/NAME -> ..data/NAME, ..data -> the current set; no temp files left, API_KEY removed, old set removed
    expect(readlinkSync(join(out, "DB_PASSWORD"))).toBe("..data/DB_PASSWORD");
    expect(readdirSync(out).filter((n) => !n.startsWith("..2")).sort()).toEqual(["..data", "DB_PASSWORD"]);
    expect(readdirSync(out).filter((n) => n.startsWith("..2"))).toEqual([readlinkSync(join(out, "..data"))]);
  });

  it("refuses names that are not plain file names", () => {
    expect(renderableName("A_B.c-d")).toBe(true);
    for (const bad of ["..", ".", "a/b", "", "x\0y", ".hidden"]) expect(renderableName(bad)).toBe(false);
  });

  it("names the path at fault when DIR cannot be used", () => {
    dir = mkdtempSync(join(tmpdir(), "lk-render-"));
    writeFileSync(join(dir, "file"), "");
    expect(() => new Renderer(join(dir, "file")).render({ A: "v" })).toThrow(/--render: cannot write .*file/);
  });
});
