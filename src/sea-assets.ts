/**
 * The single executable's bundles and their code caches, by asset name (src/sea-main.ts reads
 * them; build/executable.ts writes them, under the same names, beside the loader).
 */
export interface BundleAssets {
  bundle: string;
  cache: string;
}

/** Everything latchkey does; the same file as dist/latchkey.cjs. */
export const MAIN: BundleAssets = { bundle: "latchkey.cjs", cache: "latchkey.codecache" };

/**
 * `latchkey health` alone (src/health/standalone.ts): it runs every few seconds in every
 * container and needs a small part of the code, so it does not read or compile the rest.
 */
export const HEALTH: BundleAssets = { bundle: "latchkey-health.cjs", cache: "latchkey-health.codecache" };

/** Which bundle a command line (process.argv) starts with. */
export function bundleFor(argv: readonly string[]): BundleAssets {
  return argv[2] === "health" ? HEALTH : MAIN;
}
