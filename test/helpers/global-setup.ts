import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { FIXTURES, LATCHKEY } from "./paths.ts";

/**
 * Integration tests run the built binary; scripts/test builds it first.
 *
 * Many tests run latchkey and its fixtures as other users (nobody, a test uid). A clone in a
 * private directory (mktemp -d gives 0700) is out of their reach, and every such test would
 * fail with EACCES for a reason that has nothing to do with latchkey. Then the binary and the
 * fixtures are staged in a world-readable directory and the workers are pointed at it (they
 * are forked after this runs and inherit the environment).
 */
export default function setup(): (() => void) | void {
  if (!existsSync(LATCHKEY)) {
    throw new Error(`${LATCHKEY} is missing: run scripts/build (scripts/test does it for you)`);
  }
  if (process.env.LATCHKEY_BIN || (reachableByOthers(LATCHKEY) && reachableByOthers(FIXTURES))) return;
  const stage = mkdtempSync(join(tmpdir(), "latchkey-stage-"));
  chmodSync(stage, 0o755);
  const dist = join(stage, "dist");
  cpSync(dirname(LATCHKEY), dist, { recursive: true });
  cpSync(FIXTURES, join(stage, "fixtures"), { recursive: true });
  chmodSync(dist, 0o755);
  chmodSync(join(stage, "fixtures"), 0o755);
  process.env.LATCHKEY_BIN = join(dist, "latchkey");
  // Race tests run a Node racer as the app user: it needs a runtime it can execute.
  const node = join(stage, "node");
  cpSync(process.execPath, node);
  chmodSync(node, 0o755);
  process.env.LATCHKEY_TEST_NODE = node;
  process.env.LATCHKEY_TEST_FIXTURES = join(stage, "fixtures");
  return () => rmSync(stage, { recursive: true, force: true });
}

function reachableByOthers(path: string): boolean {
  for (let p = dirname(path); ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === "/") break;
  }
  return (statSync(path).mode & 0o004) !== 0;
}
