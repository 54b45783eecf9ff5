import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const LATCHKEY = process.env.LATCHKEY_BIN ?? join(ROOT, "dist", "latchkey");
export const FIXTURES = join(ROOT, "test", "fixtures");
