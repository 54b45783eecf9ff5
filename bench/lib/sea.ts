/**
 * Reference single executables built at bench time from the same runtime and with the same
 * SEA options as build/build.ts, so that the startup ratio measures latchkey's own code and
 * not a difference in packaging: stripped base binary passed as "executable", code cache on,
 * no NODE_OPTIONS extension, the same baked-in execArgv.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fixtures, out, root } from "./paths.ts";
import { flushFile } from "./files.ts";
import { RUNTIME_FLAGS } from "../../build/executable.ts";

/** The execArgv latchkey is built with (build/executable.ts), checked against its SEA options so the two cannot drift. */
export function latchkeyExecArgv(): string[] {
  const src = readFileSync(join(root, "build", "executable.ts"), "utf8");
  for (const opt of [/useCodeCache:\s*true/, /execArgvExtension:\s*"none"/, /strip/]) {
    if (!opt.test(src)) throw new Error(`bench: build/executable.ts no longer matches ${opt}; update bench/lib/sea.ts to build the references the same way`);
  }
  return RUNTIME_FLAGS;
}

/** Build one SEA per fixture (`hello`, `hello-spawn`, ...); returns their paths by name. */
export function buildReferenceSeas(node: string, names: string[]): Record<string, string> {
  mkdirSync(out, { recursive: true });
  const base = join(out, ".node-base");
  copyFileSync(node, base);
  const strip = spawnSync("strip", ["--strip-all", base]);
  if (strip.status !== 0 || spawnSync(base, ["-e", "0"]).status !== 0) {
    throw new Error("bench: strip failed or broke the runtime; build/build.ts would ship unstripped — compare like with like by hand");
  }
  const execArgv = latchkeyExecArgv();
  const built: Record<string, string> = {};
  for (const name of names) {
    const output = join(out, name);
    const config = join(out, `${name}.sea.json`);
    writeFileSync(config, JSON.stringify({
      main: join(fixtures, `${name}.cjs`),
      output,
      executable: base,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      useSnapshot: false,
      execArgvExtension: "none",
      execArgv,
    }));
    execFileSync(node, ["--build-sea", config], { stdio: ["ignore", "ignore", "inherit"] });
    chmodSync(output, 0o755);
    flushFile(output);
    rmSync(config);
    built[name] = output;
  }
  rmSync(base);
  return built;
}
