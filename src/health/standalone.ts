/**
 * The entry of the health bundle that the single executable runs for `latchkey health`
 * (src/sea-main.ts): the same fast path as src/entry.ts takes, without the rest of latchkey
 * in the bundle. `fallback` runs the full program, for a command line this path does not
 * understand (it either understands it or reports it).
 */
import { runHealthFast } from "./entry.ts";

export function run(argv: string[], fallback: () => void): void {
  runHealthFast(argv, fallback);
}
