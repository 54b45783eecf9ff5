/**
 * Real directories for the file-secrets integration tests, and a probe app that records its
 * environment to a file (never to stdout: the redaction sweep reads every byte printed).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";

export function workspace(tag: string): { root: string; path: (...p: string[]) => string } {
  const root = mkdtempSync(join(tmpdir(), `lk-${tag}-`));
  // World-traversable so an app running as another user (--user) can write its probe file.
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return { root, path: (...p) => join(root, ...p) };
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** `-- sh -c ... OUT`: the app writes its env (NUL-separated) to OUT, prints nothing. */
export function probe(out: string): string[] {
  mkdirSync(dirname(out), { recursive: true, mode: 0o777 });
  chmodSync(dirname(out), 0o777);
  return ["/bin/sh", "-c", 'env -0 > "$0"', out];
}

export function readProbe(out: string): Record<string, string> | null {
  if (!existsSync(out)) return null;
  const env: Record<string, string> = {};
  for (const entry of readFileSync(out, "utf8").split("\0")) {
    if (!entry) continue;
    const eq = entry.indexOf("=");
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** A clean inherited env: PATH only, plus what the test adds (the runner's own env has *_FILE vars). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...extra };
}
