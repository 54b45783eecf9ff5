/**
 * Finding 6 of issue 12: the secrets-dir scan checked an entry's type (readdir's d_type, or a
 * realpath inside the dir) and then opened it by path, following symlinks. A process that can
 * write the secrets dir flips an entry between a regular file and a symlink to a root-only
 * file while latchkey starts; the root-only content (a canary) must never reach the app.
 * The racer runs for a bounded number of starts; zero wins allowed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { PY } from "../helpers/processes.ts";
import { cleanEnv, probe, readProbe, workspace } from "../integration/file-secrets/fixtures.ts";

const ws = workspace("dir-race");
const HOME = ws.path("home");
mkdirSync(HOME);
const STARTS = 150;
const CANARY = "CANARY-root-only-4b9";

let racer: ChildProcess | undefined;
afterEach(() => {
  if (racer?.pid) process.kill(racer.pid, "SIGKILL");
  racer = undefined;
});

/** Python loop, as fast as it goes, until killed. */
function race(script: string, ...args: string[]): void {
  racer = spawn(PY, ["-c", script, ...args], { stdio: "ignore" });
}

async function starts(dir: string, name: string): Promise<{ wins: number; ran: number; codes: Set<number | null> }> {
  let wins = 0;
  let ran = 0;
  const codes = new Set<number | null>();
  for (let i = 0; i < STARTS && wins === 0; i++) {
    const o = ws.path("out", `${name}-${i}`);
    const r = await latchkey(["--secrets-dir", dir, "--", ...probe(o)], { env: cleanEnv({ HOME }), timeoutMs: 20_000 });
    codes.add(r.code);
    expect(r.stderr).not.toContain(CANARY);
    const env = readProbe(o);
    if (env) ran++;
    if (env && Object.values(env).some((v) => v.includes(CANARY))) wins++;
  }
  return { wins, ran, codes };
}

describe("secrets-dir scan against an entry flipped between a file and a symlink", () => {
  it(`a plain entry: regular file <-> symlink to a root-only file, ${STARTS} starts, no win`, async () => {
    const d = ws.path("plain");
    mkdirSync(d);
    const target = ws.path("root-only");
    writeFileSync(target, CANARY);
    chmodSync(target, 0o600);
    writeFileSync(ws.path("plain", ".regular"), "ok-value");
    writeFileSync(ws.path("plain", "x"), "ok-value");
    race(`
import os, sys
d, target = sys.argv[1], sys.argv[2]
while True:
    try:
        os.link(d + "/.regular", d + "/.tmp"); os.rename(d + "/.tmp", d + "/x")
        os.symlink(target, d + "/.tmp2"); os.rename(d + "/.tmp2", d + "/x")
    except OSError:
        pass
`, d, target);
    const { wins, ran } = await starts(d, "plain");
    expect(wins).toBe(0);
    expect(ran).toBeGreaterThan(0); // the race let some starts through: the test did run the app
  }, 300_000);

  it(`a kubelet volume: the timestamped directory swapped for a symlink to another directory, ${STARTS} starts, no win`, async () => {
    const d = ws.path("kube");
    const outside = ws.path("outside");
    mkdirSync(ws.path("kube", "..real"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(ws.path("kube", "..real", "x"), "ok-value");
    writeFileSync(ws.path("outside", "x"), CANARY);
    chmodSync(ws.path("outside", "x"), 0o600);
    symlinkSync("..real", ws.path("kube", "..ts")); // placeholder, replaced below
    // ..data -> ..ts, x -> ..data/x; ..ts flips between a real directory and a symlink outside.
    symlinkSync("..ts", ws.path("kube", "..data"));
    symlinkSync("..data/x", ws.path("kube", "x"));
    race(`
import os, sys
d, outside = sys.argv[1], sys.argv[2]
os.unlink(d + "/..ts")
os.rename(d + "/..real", d + "/..ts")
while True:
    try:
        os.rename(d + "/..ts", d + "/..real")
        os.symlink(outside, d + "/..tmp"); os.rename(d + "/..tmp", d + "/..ts")
        os.unlink(d + "/..ts")
        os.rename(d + "/..real", d + "/..ts")
    except OSError:
        pass
`, d, outside);
    const { wins, ran } = await starts(d, "kube");
    expect(wins).toBe(0);
    expect(ran).toBeGreaterThan(0);
  }, 300_000);
});
