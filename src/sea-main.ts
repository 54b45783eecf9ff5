/**
 * The single executable's main script. It runs latchkey's bundle (the SEA asset
 * `latchkey-main.cjs`: dist/latchkey.cjs without the yaml parser) with a V8 code cache that
 * the build made by running latchkey's common paths (build/train.ts). `latchkey health`, which
 * runs every few seconds in every container, has a bundle and a cache of its own
 * (src/sea-assets.ts): reading and compiling only what a probe runs saves ~1 ms of its ~30.
 * The yaml parser is a side bundle with its own cache, compiled only by a run that reads a
 * config or policy file: the bundles' `require("yaml")` comes here (bundleRequire).
 * Deserializing costs ~1 ms plus ~2 us per KB of cache (measured here).
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
 * Outside a single executable (only the build's training runs do that) the bundles and the
 * caches are read from files beside this script, and with LATCHKEY_CODE_CACHE_TRAIN=1 each
 * cache used is written back when the process ends, covering what this run compiled too.
 */
import { readFileSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { constants, Script } from "node:vm";
import { BEFORE_EXEC, bundleFor, cacheFor, HEALTH, MAIN, SIDE, unwrapCache, type BundleAssets } from "./sea-assets.ts";

type Wrapper = (exports: object, req: NodeJS.Require, module: { exports: Record<string, unknown> }, filename: string, dir: string) => void;

const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea") | undefined;
const inSea = sea?.isSea() === true;
const here = inSea ? "" : dirname(process.argv[1]!);

// The functions every start calls are parenthesized: V8 compiles a function in parentheses
// together with the script around it, so their bytecode is in the single executable's own
// code cache for this script (Node's useCodeCache, made from that first compile); a plain
// declaration was compiled from source at its first call, at every start: ~0.1 ms of a
// `latchkey -- /bin/true`, measured here. (esbuild keeps these parentheses.)

/** An asset's bytes: in the executable, a view of its own pages (no copy); else the file beside. */
const asset = (function asset(name: string): Buffer | undefined {
  try {
    return inSea ? Buffer.from(sea!.getRawAsset(name)) : readFileSync(join(here, name));
  } catch {
    return undefined; // built without it (a cache: or the first training run)
  }
});

/** Compile and run one bundle with its cache; returns its module.exports. */
const runBundle = (function runBundle(b: BundleAssets, bytes = asset(b.bundle)!): Record<string, unknown> {
  // The bundles are ASCII (esbuild escapes the rest; build/executable.ts checks): latin1
  // decodes them without UTF-8 validation. Each is stored already wrapped in its module
  // function (src/sea-assets.ts, wrapBundle): wrapping it here would copy it once more.
  const source = bytes.toString("latin1");
  const cacheName = cacheFor(b, process.argv, process.env);
  // In the executable each cache is stored padded so that it is 8-byte aligned (unwrapCache).
  const stored = asset(cacheName);
  const cache = stored && inSea ? unwrapCache(stored) : stored;
  const script = new Script(source, {
    filename: b.bundle,
    // The bundle imports built-ins with process.getBuiltinModule; any import() left (the
    // npm SDK fallback, unused in the executable) goes to Node's own loader.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cache ? { cachedData: cache } : {}),
  });
  if (process.env.LATCHKEY_CODE_CACHE_CHECK === "1") {
    process.stderr.write(`code cache: ${b.bundle}: ${cache ? (script.cachedDataRejected ? "rejected" : "accepted") : "absent"}\n`);
    // What this run compiled beyond the cache, as the cache's growth: a path the training
    // missed (test/integration/platform/sea-bundles.test.ts). Written to fd 2 directly: it
    // must be out before an execve.
    if (cache && !script.cachedDataRejected) {
      atEnd(() => writeSync(2, `code cache growth: ${b.bundle} (${cacheName}): ${script.createCachedData().length - cache.length} bytes\n`));
    }
  }
  if (!inSea && process.env.LATCHKEY_CODE_CACHE_TRAIN === "1") atEnd(() => writeFileSync(join(here, cacheName), script.createCachedData()));
  const wrapper = script.runInThisContext() as Wrapper;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  wrapper(mod.exports, bundleRequire, mod, inSea ? process.execPath : join(here, b.bundle), here || dirname(process.execPath));
  return mod.exports;
});

/**
 * The bundles' `require`: a side bundle (src/sea-assets.ts) on its first use, a built-in
 * module straight from process.getBuiltinModule, else Node's. The bundle asks for node:fs and
 * node:path once per module that imports them (~45 calls in a plain start): through the
 * single executable's `require` (Node's embedder loader, with its id checks and debug log
 * calls) they took ~0.08 ms of it, measured here; getBuiltinModule returns the same objects.
 */
const sideExports = new Map<string, Record<string, unknown>>();
const bundleRequire = Object.assign(((id: string): unknown => {
  const side = Object.hasOwn(SIDE, id) ? SIDE[id] : undefined;
  if (!side) return process.getBuiltinModule(id) ?? require(id);
  let exports = sideExports.get(id);
  if (!exports) {
    const bytes = asset(side.bundle);
    if (!bytes) throw new Error(`latchkey: ${side.bundle} (the ${id} package) is missing from this executable; rebuild it`);
    sideExports.set(id, (exports = runBundle(side, bytes)));
  }
  return exports;
}), require) as NodeJS.Require;

/**
 * Run `f` once when this process ends: at exit, or just before it becomes the app (--exec),
 * when no exit event comes.
 */
function atEnd(f: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    f();
  };
  process.on("exit", once);
  // latchkey's own execve (--exec): the functions that led up to it are compiled by then.
  process.on(BEFORE_EXEC, once);
  const execve = process.execve;
  if (!execve) return;
  process.execve = (...a: Parameters<typeof execve>) => {
    once();
    return execve.apply(process, a);
  };
}

const healthBytes = bundleFor(process.argv) === HEALTH ? asset(HEALTH.bundle) : undefined;
if (healthBytes) {
  const health = runBundle(HEALTH, healthBytes) as { run(argv: string[], fallback: () => void): void };
  health.run(process.argv.slice(2), () => void runBundle(MAIN));
} else {
  runBundle(MAIN);
}
