/** The single executable's assets, by name (src/sea-main.ts reads them, build/ writes them). */
export const BUNDLE_ASSET = "latchkey.cjs";

/** The code cache for a command line (process.argv): `latchkey health` has its own. */
export function cacheAsset(argv: readonly string[]): string {
  return argv[2] === "health" ? "latchkey-health.codecache" : "latchkey.codecache";
}
