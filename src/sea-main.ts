/**
 * The single executable's main script. It runs latchkey's bundle (the SEA asset
 * `latchkey.cjs`, the same file as dist/latchkey.cjs) with a V8 code cache that the build
 * made by running latchkey's common paths (build/train.ts): one for `latchkey health`, which
 * runs every few seconds in every container and uses a small part of the bundle, one for the
 * rest. Deserializing costs ~1 ms plus ~2 us per KB of cache (measured here), so each path
 * loads only the bytecode it runs.
 *
 * Why not Node's own `useCodeCache`: it caches what V8 compiles while it compiles the main
 * script, which for an esbuild bundle is little more than its module wrappers. Every
 * function that runs at start was compiled again at every start: ~10 ms of a `latchkey --
 * /bin/true` that is otherwise ~35 ms (measured here; bench/RESULTS.md, Startup). A cache
 * made *after* running holds the bytecode of every function that ran.
 *
 * V8 checks the cache against this exact source, its own version and its flags; a cache it
 * rejects costs nothing but the compile it would have saved. `build/build.ts` checks that the
 * finished executable accepts it (LATCHKEY_CODE_CACHE_CHECK=1 prints the verdict).
 *
 * Outside a single executable (only the build's training runs do that) the bundle and the
 * cache are read from files beside this script, and with LATCHKEY_CODE_CACHE_TRAIN set the
 * cache is written back when the process ends, covering what this run compiled too.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { constants, Script } from "node:vm";
import { BUNDLE_ASSET, cacheAsset } from "./sea-assets.ts";



type Wrapper = (exports: object, req: NodeJS.Require, module: { exports: object }, filename: string, dir: string) => void;

function main(): void {
  const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea") | undefined;
  const inSea = sea?.isSea() === true;
  const here = inSea ? "" : dirname(process.argv[1]!);
  // The bundle is ASCII (esbuild escapes the rest; build/build.ts checks): latin1 decodes it
  // without UTF-8 validation. Raw assets are views of the executable's own pages, not copies.
  const source = (inSea ? Buffer.from(sea!.getRawAsset(BUNDLE_ASSET)) : readFileSync(join(here, BUNDLE_ASSET))).toString("latin1");
  let cache: Buffer | undefined;
  try {
    const asset = cacheAsset(process.argv);
    cache = inSea ? Buffer.from(sea!.getRawAsset(asset)) : readFileSync(join(here, asset));
  } catch {
    cache = undefined; // built without one, or the first training run
  }
  // The bundle starts with a `#!` line (for running it with node): a syntax error inside
  // the wrapper. Blanked, not removed, so that line numbers in stack traces stay right.
  const body = source.startsWith("#!") ? source.slice(source.indexOf("\n")) : source;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, {
    filename: BUNDLE_ASSET,
    // The bundle imports built-ins with process.getBuiltinModule; any import() left (the
    // npm SDK fallback, unused in the executable) goes to Node's own loader.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cache ? { cachedData: cache } : {}),
  });
  if (process.env.LATCHKEY_CODE_CACHE_CHECK === "1") {
    process.stderr.write(`code cache: ${cache ? (script.cachedDataRejected ? "rejected" : "accepted") : "absent"}\n`);
  }
  const train = inSea ? undefined : process.env.LATCHKEY_CODE_CACHE_TRAIN;
  if (train) trainInto(script, train);
  const run = script.runInThisContext() as Wrapper;
  const mod = { exports: {} };
  run(mod.exports, require, mod, inSea ? process.execPath : join(here, BUNDLE_ASSET), here || dirname(process.execPath));
}

/** Write the cache when this process ends: at exit, or just before it becomes the app (--exec). */
function trainInto(script: Script, file: string): void {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    writeFileSync(file, script.createCachedData());
  };
  process.on("exit", write);
  const execve = process.execve;
  if (!execve) return;
  process.execve = (...a: Parameters<typeof execve>) => {
    write();
    return execve.apply(process, a);
  };
}

main();
