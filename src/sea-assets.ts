/**
 * The single executable's bundles and their code caches, by asset name (src/sea-main.ts reads
 * them; build/executable.ts writes them, under the same names, beside the loader).
 */
export interface BundleAssets {
  bundle: string;
  cache: string;
}

/** Everything latchkey does: dist/latchkey.cjs without the side bundles below. */
export const MAIN: BundleAssets = { bundle: "latchkey-main.cjs", cache: "latchkey.codecache" };

/**
 * Packages the main bundle leaves out and the loader supplies to its `require`, each as a
 * bundle with a code cache of its own, compiled only by a run that uses it. The yaml parser
 * (config and policy files) is a third of what the main bundle's cache would otherwise hold:
 * ~0.6 ms of every start without a config file (measured here). dist/latchkey.cjs keeps them
 * inside.
 */
export const SIDE: Readonly<Record<string, BundleAssets>> = {
  yaml: { bundle: "yaml.cjs", cache: "yaml.codecache" },
  // Templates (src/template/engine.ts): ~190 KB of Liquid interpreter that a start without
  // --template never reads or compiles.
  liquidjs: { bundle: "liquidjs.cjs", cache: "liquidjs.codecache" },
};

/**
 * `latchkey health` alone (src/health/standalone.ts): it runs every few seconds in every
 * container and needs a small part of the code, so it does not read or compile the rest.
 */
export const HEALTH: BundleAssets = { bundle: "latchkey-health.cjs", cache: "latchkey-health.codecache" };

/**
 * Emitted on `process` just before latchkey's own execve system call (platform/spawn.ts,
 * --exec and the exec shim): no `exit` event follows a successful execve, and the loader
 * writes the code caches (training) or measures them (LATCHKEY_CODE_CACHE_CHECK) at exit.
 * Node's process.execve, the other way to exec, the loader wraps itself.
 */
export const BEFORE_EXEC = "latchkey:before-exec";

/**
 * The main bundle's second cache, for the commonest start there is: `latchkey [--exec] --
 * COMMAND` with nothing to load (no secret, no setting in the environment). Trained on those
 * runs alone (build/train.ts), it holds about two thirds of what MAIN's cache holds, and a
 * start deserializes every byte of the cache it is given (~2 us per KB, measured here).
 * A start that guessed wrong still runs: it compiles what the cache lacks, as before caches.
 */
export const PLAIN_CACHE = "latchkey-plain.codecache";

/**
 * The cache to compile `b` with. Plain means: the command line is `[--exec] -- ...`, and the
 * environment has no LATCHKEY_ setting and no value that looks like a reference (`://`).
 * NAME_FILE variables do not count: most (SSL_CERT_FILE and the like) point outside the
 * secrets dirs and are left alone, and the plain training run has one such. Files in the
 * default secrets dir are not looked for (a stat at every start, for a guess).
 */
export const cacheFor = (function cacheFor(b: BundleAssets, argv: readonly string[], env: NodeJS.ProcessEnv): string {
  if (b !== MAIN) return b.cache;
  const i = argv[2] === "--exec" ? 3 : 2;
  if (argv[i] !== "--") return b.cache;
  for (const name in env) {
    if (name.startsWith("LATCHKEY_") && !name.startsWith("LATCHKEY_CODE_CACHE_")) return b.cache;
    if (env[name]!.includes("://")) return b.cache;
  }
  return PLAIN_CACHE;
}); // parenthesized: compiled with the loader (src/sea-main.ts says why)

/** Which bundle a command line (process.argv) starts with. */
export const bundleFor = (function bundleFor(argv: readonly string[]): BundleAssets {
  return argv[2] === "health" ? HEALTH : MAIN;
}); // parenthesized: compiled with the loader (src/sea-main.ts says why)

/**
 * A bundle as the loader compiles it: one function expression taking what a CommonJS module
 * gets. The build stores the asset this way, so the loader neither copies nor scans it.
 */
export function wrapBundle(source: string): string {
  if (source.startsWith("#!")) throw new Error("a bundle stored as an asset must not start with a #! line");
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/**
 * A code cache as the executable stores it: one byte `p`, `p` bytes of padding, the cache,
 * then 7 - `p` bytes, so that the asset's length does not depend on `p`. V8 reads a code
 * cache in place only at an 8-byte aligned address; anywhere else it first copies it into an
 * aligned buffer of its own (the plain cache: ~330 KB copied, ~80 more page faults, ~0.2 ms of
 * every start, measured here). Where an asset lands inside the executable follows from every
 * asset before it, so the build stores each cache with p = 0, finds where the cache ended up,
 * and stores it again with the `p` that aligns it (build/executable.ts, alignCaches): the
 * same lengths, so nothing moves.
 */
export const CACHE_PAD = 8;

export function wrapCache(cache: Uint8Array, p: number): Buffer {
  if (!Number.isInteger(p) || p < 0 || p >= CACHE_PAD) throw new RangeError(`cache padding ${p} is not 0-${CACHE_PAD - 1}`);
  const out = Buffer.alloc(cache.length + CACHE_PAD);
  out[0] = p;
  out.set(cache, 1 + p);
  return out;
}

/** The cache inside an asset wrapCache made: a view, not a copy. */
export const unwrapCache = (function unwrapCache(stored: Buffer): Buffer {
  return stored.subarray(1 + stored[0]!, stored.length - CACHE_PAD + 1 + stored[0]!);
}); // parenthesized: compiled with the loader (src/sea-main.ts says why)
