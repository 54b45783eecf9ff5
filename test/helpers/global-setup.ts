import { existsSync } from "node:fs";
import { LATCHKEY } from "./paths.ts";

/** Integration tests run the built binary; scripts/test builds it first. */
export default function setup(): void {
  if (!existsSync(LATCHKEY)) {
    throw new Error(`${LATCHKEY} is missing: run scripts/build (scripts/test does it for you)`);
  }
}
