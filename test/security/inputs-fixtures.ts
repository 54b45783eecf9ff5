/**
 * Shared by the test/security/inputs-*.test.ts attacks: a private temporary HOME (a
 * ~/.vault-token on the machine must not change what latchkey does), a clean environment, and
 * an app that records its environment to a file instead of printing it.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

export function tempRoot(tag: string): { root: string; home: string; path: (...p: string[]) => string } {
  const root = mkdtempSync(join(tmpdir(), `lk-${tag}-`));
  chmodSync(root, 0o755);
  const home = join(root, "home");
  mkdirSync(home);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return { root, home, path: (...p) => join(root, ...p) };
}

/** PATH, a private HOME, and what the test adds: nothing else of the runner's environment. */
export function env(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: home, ...extra };
}

/** `-- sh -c ...`: the app writes its environment (NUL-separated) to `out`, prints nothing. */
export function probe(out: string): string[] {
  return ["/bin/sh", "-c", 'env -0 > "$0"', out];
}

export function readProbe(out: string): Record<string, string> | null {
  if (!existsSync(out)) return null;
  const e: Record<string, string> = {};
  for (const entry of readFileSync(out, "utf8").split("\0")) {
    if (!entry) continue;
    const eq = entry.indexOf("=");
    e[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return e;
}

export function lines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "");
}
