import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..");
export const benchDir = join(root, "bench");
export const fixtures = join(benchDir, "fixtures");
/** Scratch space for binaries built at bench time (gitignored). */
export const out = join(benchDir, "out");
export const results = join(benchDir, "RESULTS.md");
