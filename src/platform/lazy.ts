/**
 * Modules fetched on first use instead of at load. The bundle runs every statically imported
 * module's top level at start, so a top-level `import from "node:crypto"` costs every latchkey
 * process ~8 ms of start-up and ~1.3 MB of anonymous memory (measured here), also `latchkey
 * version`, `latchkey health` and an --exec start that never hash anything. The yaml and
 * dotenv packages cost ~3 ms more between them, paid only by runs that read such a file.
 *
 * `require` of a package: esbuild bundles it and evaluates it at this call, not at start.
 */
export const crypto = (): typeof import("node:crypto") => process.getBuiltinModule("node:crypto");

/** node:os: only errno names (after a failure) and a home directory need it (~0.2 ms to load). */
export const os = (): typeof import("node:os") => process.getBuiltinModule("node:os");

export const yaml = (): typeof import("yaml") => require("yaml") as typeof import("yaml");

export const dotenv = (): typeof import("dotenv") => require("dotenv") as typeof import("dotenv");
