/**
 * Helpers for tests that drive real processes: fixtures, temp dirs, polling for a file or a
 * condition, finding latchkey inside a PID namespace, bounded concurrency.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { FIXTURES, LATCHKEY } from "./paths.ts";

/**
 * The fixtures are Python; prefer the system interpreter: a version-manager shim (pyenv) is a
 * shell script that adds ~100 ms per start and lives where other users cannot read it.
 */
export const PY = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** A fixture to run: the staged copy when the checkout is private (see global-setup.ts). */
export function fixture(name: string): string {
  return join(process.env.LATCHKEY_TEST_FIXTURES ?? FIXTURES, name);
}

/** `[python, fixture.py, ...args]` for a Python fixture, `[fixture.sh, ...args]` otherwise. */
export function fx(name: string, ...args: string[]): string[] {
  return name.endsWith(".py") ? [PY, fixture(name), ...args] : [fixture(name), ...args];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory removed after the test file; world-readable so a dropped user can read it. */
export function tempDir(prefix = "latchkey-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `cond()` is true; throw naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function waitForFile(path: string, timeoutMs = 20_000): Promise<void> {
  return waitFor(() => existsSync(path), path, timeoutMs);
}

/** Non-empty lines of a file, [] when it does not exist yet. */
export function lines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The host pid of latchkey started by `unshare --fork ... latchkey`: unshare's child, once it
 * has exec'd latchkey. Signals must go there: unshare itself only waits.
 */
export async function latchkeyUnder(unsharePid: number): Promise<number> {
  let found = 0;
  await waitFor(() => {
    found = children(unsharePid).find((c) => cmdline(c)[0] === LATCHKEY) ?? 0;
    return found !== 0;
  }, `latchkey under unshare pid ${unsharePid}`);
  return found;
}

/** Run `fn` over `items` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Fields of a `Key:\tvalue` listing such as /proc/self/status. */
export function statusFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s*(.*)$/.exec(line.trimEnd());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
