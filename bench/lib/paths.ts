import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..");
export const benchDir = join(root, "bench");
export const fixtures = join(benchDir, "fixtures");
/**
 * Scratch space for binaries built at bench time (gitignored), one per run: two runs at once
 * (other engineers benchmark too) must not overwrite an executable the other is running.
 */
export const out = join(benchDir, "out", `run-${process.pid}`);
export const results = join(benchDir, "RESULTS.md");
