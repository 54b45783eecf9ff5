/**
 * Template outputs: templates sharing a directory are one file set (one ..data switch), each
 * file with its own mode; a template in the --render directory is refused; an unknown owner
 * names the template; only templates whose output changed are rewritten.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TemplateOutputs } from "../../../src/template/outputs.ts";
import type { TemplateSpec } from "../../../src/template/config.ts";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function specs(list: { text: string; dest: string; mode?: number; owner?: string }[]): TemplateSpec[] {
  return list.map((t, i) => {
    const source = join(dir, `t${i}.liquid`);
    writeFileSync(source, t.text);
    return { source, destination: join(dir, t.dest), origin: `t${i}`, ...(t.mode !== undefined ? { mode: t.mode } : {}), ...(t.owner ? { owner: t.owner } : {}) };
  });
}
const noOwner = () => {
  throw new Error("--user: unknown user 'ghost' (not in /etc/passwd)");
};

describe("template outputs", () => {
  it("two templates in one directory: one set, each file with its mode; a rewrite switches both", () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-tplout-")));
    const o = new TemplateOutputs(specs([{ text: "c={{ A }}", dest: "tls/tls.crt", mode: 0o444 }, { text: "k={{ B }}", dest: "tls/tls.key" }]),
      { defaultAction: { kind: "restart" }, resolveOwner: noOwner });
    const first = o.render({ A: "1", B: "x" });
    expect(first.changed).toHaveLength(2);
    first.commit();
    const set1 = readlinkSync(join(dir, "tls", "..data"));
    expect(readlinkSync(join(dir, "tls", "tls.crt"))).toBe("..data/tls.crt");
    expect((statSync(join(dir, "tls", "tls.crt")).mode & 0o777).toString(8)).toBe("444");
    expect((statSync(join(dir, "tls", "tls.key")).mode & 0o777).toString(8)).toBe("400");
    expect(o.render({ A: "1", B: "x" }).changed).toEqual([]); // same output: nothing to write
    const second = o.render({ A: "2", B: "x" });
    expect(second.changed.map((t) => t.name)).toEqual(["tls.crt"]);
    second.commit();
    expect(readlinkSync(join(dir, "tls", "..data"))).not.toBe(set1); // one new set for the directory
    expect(readFileSync(join(dir, "tls", "tls.crt"), "utf8")).toBe("c=2");
    expect(readFileSync(join(dir, "tls", "tls.key"), "utf8")).toBe("k=x");
  });

  it("refuses a template in the --render directory, and names the template of an unknown owner", () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-tplout-")));
    expect(() => new TemplateOutputs(specs([{ text: "x", dest: "r/a" }]), { defaultAction: { kind: "restart" }, resolveOwner: noOwner, renderDir: join(dir, "r/") }))
      .toThrow(/^t0: destination .*\/r\/a is in the --render directory/);
    try {
      new TemplateOutputs(specs([{ text: "x", dest: "o/a", owner: "ghost" }]), { defaultAction: { kind: "restart" }, resolveOwner: noOwner });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe("t0: owner: unknown user 'ghost' (not in /etc/passwd)");
      expect((e as { exitCode: number }).exitCode).toBe(67);
    }
  });

  it("a missing or oversized template source is an error naming it", () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-tplout-")));
    const missing: TemplateSpec = { source: join(dir, "nope.liquid"), destination: join(dir, "x/a"), origin: "--template" };
    expect(() => new TemplateOutputs([missing], { defaultAction: { kind: "restart" }, resolveOwner: noOwner })).toThrow(/^template .*nope.liquid does not exist$/);
    writeFileSync(join(dir, "big.liquid"), "x".repeat(1024 * 1024 + 1));
    const big: TemplateSpec = { source: join(dir, "big.liquid"), destination: join(dir, "x/a"), origin: "--template" };
    expect(() => new TemplateOutputs([big], { defaultAction: { kind: "restart" }, resolveOwner: noOwner })).toThrow(/too large/);
  });
});
