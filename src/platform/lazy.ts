/**
 * Node built-ins fetched on first use instead of at load. The bundle runs every statically
 * imported module's top level at start, so a top-level `import from "node:crypto"` costs
 * every latchkey process ~8 ms of start-up and ~1.3 MB of anonymous memory (measured here),
 * also `latchkey version`, `latchkey health` and an --exec start that never hash anything.
 */
export const crypto = (): typeof import("node:crypto") => process.getBuiltinModule("node:crypto");
