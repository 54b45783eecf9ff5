/** C fixtures are compiled at bench time: nothing binary is kept in the repository. */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fixtures, out } from "./paths.ts";

export function compileC(name: string): string {
  mkdirSync(out, { recursive: true });
  const exe = join(out, name);
  execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, join(fixtures, `${name}.c`)], { stdio: "inherit" });
  return exe;
}
