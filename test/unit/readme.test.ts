import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { render } from "../../scripts/readme.ts";
import { allFlags } from "../../src/cli/flags.ts";
import { EXIT_CODE_TABLE } from "../../src/errors.ts";
import { ROOT } from "../helpers/paths.ts";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");

describe("README", () => {
  it("has the options and exit-code tables as the code generates them (run node scripts/readme.ts)", () => {
    expect(render(readme)).toBe(readme);
  });

  it("names every flag and env var, and every exit code", () => {
    for (const f of allFlags()) {
      expect(readme, f.name).toContain(`--${f.name}`);
      if (f.env) expect(readme, f.env).toContain(f.env);
    }
    for (const e of EXIT_CODE_TABLE) if (e.name !== "-" && e.name !== "128+n") expect(readme).toContain(`| ${e.code} | ${e.name} |`);
  });

  it("quick start has exactly the two commands", () => {
    const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = quick.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
    expect(commands).toEqual(["scripts/demo", "scripts/test"]);
  });
});
