/**
 * Without a reference policy, `file://` references and `NAME_FILE` variables were read by path,
 * following symlinks: pointed into a directory the app user can write (a volume it shares, its
 * home), the app replaces the file by a link to a root-only file and root latchkey hands that
 * file to the app at the next start or rotation. They are now opened on descriptors from `/`,
 * following no symlink someone other than root (or latchkey) could have planted; Docker and
 * Kubernetes layouts (root-owned `..data` links) still work.
 */
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, probe, readProbe, workspace } from "../integration/file-secrets/fixtures.ts";

const APP = 65534;
const root = process.getuid!() === 0;
const why = root ? "" : "needs root (latchkey as root, the app as uid 65534)";
if (why) console.log(`skipped: ${why}`);

const CANARY = "CANARY-root-only-7f3e";

function layout() {
  const ws = workspace("file-ref-symlink");
  chmodSync(ws.root, 0o755);
  const rootOnly = ws.path("root-only");
  writeFileSync(rootOnly, CANARY, { mode: 0o600 });
  const shared = ws.path("shared"); // the app's own directory (a volume it writes)
  mkdirSync(shared, { mode: 0o755 });
  chownSync(shared, APP, APP);
  writeFileSync(join(shared, "pw"), "app-password-1");
  chownSync(join(shared, "pw"), APP, APP);
  // the app swaps its file for a link to the root-only one
  const plant = spawnSync("setpriv", ["--reuid", String(APP), "--regid", String(APP), "--clear-groups", "sh", "-c", `rm -f "$1/pw" && ln -s "$2" "$1/pw"`, "sh", shared, rootOnly]);
  expect(plant.status, plant.stderr?.toString()).toBe(0);
  const out = ws.path("out");
  mkdirSync(out, { mode: 0o777 });
  chmodSync(out, 0o777);
  return { ws, shared, rootOnly, out: join(out, "env") };
}

describe.skipIf(why !== "")("file:// and NAME_FILE follow no symlink the app could have planted (no policy)", () => {
  it.each([
    ["file://", (p: string) => ({ X: `file://${p}` }), [] as string[]],
    ["NAME_FILE (--file-vars all)", (p: string) => ({ X_FILE: p }), ["--file-vars", "all"]],
  ])("%s into an app-owned directory, link to a root-only file: refused (77), the app does not start", async (_n, env, args) => {
    const { ws, shared, out } = layout();
    const r = await latchkey([...args, "--user", `${APP}:${APP}`, "--", ...probe(out)], { env: cleanEnv({ HOME: ws.root, ...env(join(shared, "pw")) }), timeoutMs: 30_000 });
    expect(readProbe(out), r.stderr).toBeNull();
    expect(r.stderr).not.toContain(CANARY);
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(/symlink that another user could have planted/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a root-owned link (the kubelet's ..data layout) is still followed", async () => {
    const ws = workspace("file-ref-kubelet");
    chmodSync(ws.root, 0o755);
    const vol = ws.path("vol");
    mkdirSync(join(vol, "..2026_12_06"), { recursive: true });
    writeFileSync(join(vol, "..2026_12_06", "pw"), "kube-password-1");
    symlinkSync("..2026_12_06", join(vol, "..data"));
    symlinkSync("..data/pw", join(vol, "pw"));
    const out = ws.path("out");
    mkdirSync(out, { mode: 0o777 });
    chmodSync(out, 0o777);
    const r = await latchkey(["--file-vars", "all", "--user", `${APP}:${APP}`, "--", ...probe(join(out, "env"))],
      { env: cleanEnv({ HOME: ws.root, X: `file://${join(vol, "pw")}`, Y_FILE: join(vol, "pw") }), timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readProbe(join(out, "env"))).toMatchObject({ X: "kube-password-1", Y: "kube-password-1" });
  });
});
