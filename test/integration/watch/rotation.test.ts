/**
 * Rotation end to end: the built binary supervising a real app, secrets changed the way
 * kubelet, Docker and people change them. The app records each start (pid and the value it
 * got in its environment) and each SIGHUP in a file.
 */
import { describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, statSync, openSync, closeSync, writeSync, ftruncateSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latchkey, start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { latchkeyUnder, lines, sleep, tempDir, waitFor } from "../../helpers/processes.ts";
import { kubeWrite } from "../../helpers/kube-volume.ts";

/** Appends `start PID VALUE` on start, `hup PID RENDERED` on SIGHUP; TERM ends it (143). */
const APP = `
trap 'echo "hup $$ $(cat "$RENDER/DB_PASSWORD" 2>/dev/null)" >> "$OUT"' HUP
echo "start $$ $DB_PASSWORD" >> "$OUT"
while :; do sleep 0.05; done`;

function launch(args: string[], out: string, extraEnv: Record<string, string> = {}, app = APP) {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", OUT: out, RENDER: extraEnv.RENDER ?? "/nonexistent", ...extraEnv };
  return start(LATCHKEY, ["--log-level", "info", ...args, "--", "sh", "-c", app], { env, timeoutMs: 90_000 });
}
const starts = (out: string) => lines(out).filter((l) => l.startsWith("start "));
const hups = (out: string) => lines(out).filter((l) => l.startsWith("hup "));

async function stop(run: ReturnType<typeof start>): Promise<{ code: number | null; stderr: string; ms: number }> {
  run.proc.kill("SIGTERM");
  const t0 = Date.now();
  const r = await run.done;
  return { code: r.code, stderr: r.stderr, ms: Date.now() - t0 };
}

function writeInPlace(path: string, value: string): void {
  // Docker/Compose on the host side: same inode, truncated and rewritten.
  const fd = openSync(path, "r+");
  ftruncateSync(fd, 0);
  writeSync(fd, value, 0);
  closeSync(fd);
}

describe("rotation (built binary, real processes)", () => {
  it("a change after the startup load, before the watches are armed, is caught by the first look", async () => {
    const d = tempDir();
    const dir = join(d, "secrets");
    mkdirSync(dir);
    const out = join(d, "out");
    const file = join(dir, "db_password");
    writeFileSync(file, "pw-before-arm");
    // A pre-start hook runs after the load and before the app: the watches are not armed yet
    // (they are 50 ms after the app starts), so only the controller's first look can see it.
    const run = launch(["--secrets-dir", dir, "--debounce", "100ms", "--pre-start", `sh -c 'printf pw-after-load > ${file}'`], out);
    await waitFor(() => starts(out).length === 2, "restart by the first look");
    await sleep(1000); // room for a spurious second action
    const s = starts(out);
    expect(s).toHaveLength(2);
    expect(s[0]).toMatch(/ pw-before-arm$/);
    expect(s[1]).toMatch(/ pw-after-load$/);
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/restarting the app: secrets changed.*reason=start.*changed=DB_PASSWORD/);
  });

  it("kubelet atomic ..data swap → restarted exactly once with the new value in its env", async () => {
    const d = tempDir();
    const vol = join(d, "vol");
    const out = join(d, "out");
    kubeWrite(vol, { db_password: "pw-kube-one", other: "other-stays" });
    const run = launch(["--secrets-dir", vol, "--debounce", "200ms"], out);
    await waitFor(() => starts(out).length === 1, "first start");
    kubeWrite(vol, { db_password: "pw-kube-two", other: "other-stays" });
    await waitFor(() => starts(out).length === 2, "restart after the swap");
    await sleep(1500); // room for a spurious second action
    const s = starts(out);
    expect(s).toHaveLength(2);
    expect(s[1]).toMatch(/ pw-kube-two$/);
    const newPid = Number(s[1]!.split(" ")[1]);
    expect(readFileSync(`/proc/${newPid}/environ`, "utf8").split("\0")).toContain("DB_PASSWORD=pw-kube-two");
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/restarting the app: secrets changed.*changed=DB_PASSWORD/);
    expect(r.stderr).not.toContain("pw-kube");
  });

  it("kubelet swap with --on-change signal:HUP --render → signalled once, same pid, new rendered file", async () => {
    const d = tempDir();
    const vol = join(d, "vol");
    const out = join(d, "out");
    const render = join(d, "rendered");
    kubeWrite(vol, { db_password: "pw-sig-one" });
    const run = launch(["--secrets-dir", vol, "--debounce", "200ms", "--on-change", "signal:HUP", "--render", render], out, { RENDER: render });
    await waitFor(() => starts(out).length === 1, "first start");
    expect(readFileSync(join(render, "DB_PASSWORD"), "utf8")).toBe("pw-sig-one");
    kubeWrite(vol, { db_password: "pw-sig-two" });
    await waitFor(() => hups(out).length === 1, "SIGHUP after the swap");
    await sleep(1500);
    const pid = starts(out)[0]!.split(" ")[1];
    expect(starts(out)).toHaveLength(1);
    expect(hups(out)).toEqual([`hup ${pid} pw-sig-two`]);
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.stderr).not.toContain("pw-sig");
  });

  it("Docker-style in-place change, then replacement by rename: one restart each", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    const file = join(secrets, "db_password");
    writeFileSync(file, "pw-dock-one\n");
    const out = join(d, "out");
    const run = launch(["--secrets-dir", secrets, "--debounce", "200ms"], out);
    await waitFor(() => starts(out).length === 1, "first start");
    writeInPlace(file, "pw-dock-two\n");
    await waitFor(() => starts(out).length === 2, "restart after the in-place change");
    expect(starts(out)[1]).toMatch(/ pw-dock-two$/);
    await sleep(800);
    writeFileSync(join(secrets, ".db_password.tmp"), "pw-dock-three\n");
    renameSync(join(secrets, ".db_password.tmp"), file);
    await waitFor(() => starts(out).length === 3, "restart after the replacement");
    expect(starts(out)[2]).toMatch(/ pw-dock-three$/);
    // Same content written again, and an unrelated temp file: no action.
    writeInPlace(file, "pw-dock-three\n");
    writeFileSync(join(secrets, ".swp"), "x");
    await sleep(1500);
    expect(starts(out)).toHaveLength(3);
    expect((await stop(run)).code).toBe(143);
  });

  it("a storm of 1,000 changes within 2 s → at most 2 actions, ending on the last value", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    const file = join(secrets, "db_password");
    writeFileSync(file, "pw-storm-0");
    const out = join(d, "out");
    const run = launch(["--secrets-dir", secrets, "--debounce", "300ms", "--debounce-max", "5s"], out);
    await waitFor(() => starts(out).length === 1, "first start");
    const t0 = Date.now();
    for (let i = 1; i <= 1000; i++) {
      if (i % 2) writeInPlace(file, `pw-storm-${i}`);
      else {
        writeFileSync(join(secrets, ".tmp"), `pw-storm-${i}`);
        renameSync(join(secrets, ".tmp"), file);
      }
      if (i % 50 === 0) await sleep(80); // spread over ~2 s
    }
    const stormMs = Date.now() - t0;
    expect(stormMs).toBeLessThan(8000); // ~2 s when the machine is not overloaded
    await waitFor(() => starts(out).at(-1)?.endsWith(" pw-storm-1000") ?? false, "the last value", 20_000);
    await sleep(1500);
    const actions = starts(out).length - 1;
    expect(actions).toBeGreaterThanOrEqual(1);
    expect(actions).toBeLessThanOrEqual(2);
    expect((await stop(run)).code).toBe(143);
  });

  it("an invalid new value → no restart, the app keeps the old one; a valid one later → one restart", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    const file = join(secrets, "db_password");
    writeFileSync(file, "pw-valid-one");
    const out = join(d, "out");
    const run = launch(["--secrets-dir", secrets, "--require", "DB_PASSWORD", "--debounce", "200ms", "--poll-interval", "300ms"], out);
    await waitFor(() => starts(out).length === 1, "first start");
    writeInPlace(file, "");
    await sleep(2000);
    expect(starts(out)).toHaveLength(1);
    const pid = Number(starts(out)[0]!.split(" ")[1]);
    expect(() => process.kill(pid, 0)).not.toThrow();
    writeInPlace(file, "pw-valid-two");
    await waitFor(() => starts(out).length === 2, "restart onto the valid value");
    expect(starts(out)[1]).toMatch(/ pw-valid-two$/);
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/new secrets rejected; the app keeps running on the last good set.*DB_PASSWORD/);
    expect(r.stderr).not.toContain("pw-valid");
  });

  it("SIGTERM in the middle of a restart → no new app, exit 143 promptly", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db_password"), "pw-term-one");
    const out = join(d, "out");
    // Takes ~1.5 s to stop on TERM, so the outside SIGTERM lands mid-restart.
    const app = `trap 'sleep 1.5; exit 0' TERM; echo "start $$ $DB_PASSWORD" >> "$OUT"; while :; do sleep 0.05; done`;
    const run = launch(["--secrets-dir", secrets, "--debounce", "100ms"], out, {}, app);
    let stderr = "";
    run.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    await waitFor(() => starts(out).length === 1, "first start");
    writeFileSync(join(secrets, "db_password"), "pw-term-two");
    await waitFor(() => stderr.includes("restarting the app"), "the restart to begin").catch((e) => {
      throw new Error(`${(e as Error).message}; latchkey said: ${stderr.slice(-1500)}`);
    });
    await sleep(200);
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.ms).toBeLessThan(8000); // the app's own 1.5 s stop, plus generous slack for a loaded machine
    expect(starts(out)).toHaveLength(1);
  });

  it("source outage for many poll intervals → 0 restarts, app alive, backoff in logs; recovery → one restart", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db_password"), "pw-out-one");
    const out = join(d, "out");
    const run = launch(["--secrets-dir", secrets, "--require", "DB_PASSWORD", "--debounce", "100ms", "--poll-interval", "200ms"], out);
    let stderr = "";
    run.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    await waitFor(() => starts(out).length === 1, "first start");
    // The whole secrets dir goes away (an unmounted volume): every load fails.
    rmSync(secrets, { recursive: true });
    await sleep(4000);
    expect(starts(out)).toHaveLength(1);
    const pid = Number(starts(out)[0]!.split(" ")[1]);
    expect(() => process.kill(pid, 0)).not.toThrow();
    const delays = [...stderr.matchAll(/retrying.*retryInMs=(\d+)/g)].map((m) => Number(m[1]));
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...delays)).toBeGreaterThan(400); // backed off beyond the interval
    // The volume comes back whole (mounted, or renamed into place): one change.
    mkdirSync(`${secrets}.new`);
    writeFileSync(join(`${secrets}.new`, "db_password"), "pw-out-two");
    renameSync(`${secrets}.new`, secrets);
    await waitFor(() => starts(out).length === 2, "one restart after recovery", 15_000);
    await sleep(1500);
    expect(starts(out)).toHaveLength(2);
    expect(starts(out)[1]).toMatch(/ pw-out-two$/);
    expect((await stop(run)).code).toBe(143);
  });

  it("the app exiting ends latchkey with its code; --restart-on-exit restarts it", async () => {
    const d = tempDir();
    const out = join(d, "out");
    const app = `echo "start $$ x" >> "$OUT"; exit 7`;
    const once = launch([], out, {}, app);
    expect((await once.done).code).toBe(7);
    expect(starts(out)).toHaveLength(1);
    // Exits 7 on its first two runs here, then stays up.
    const flaky = `echo "start $$ x" >> "$OUT"; [ "$(wc -l < "$OUT")" -le 3 ] && exit 7; while :; do sleep 0.05; done`;
    const again = launch(["--restart-on-exit"], out, {}, flaky);
    await waitFor(() => starts(out).length === 4, "two restarts after exits");
    await sleep(500);
    const r = await stop(again);
    expect(r.code).toBe(143);
    expect(r.stderr.match(/app exited; restarting it \(--restart-on-exit\)/g)).toHaveLength(2);
    expect(starts(out)).toHaveLength(4);
  });
  it("--user: the restarted app runs as the app user again; --render files are 0400 and owned by it", async () => {
    if (process.getuid?.() !== 0) {
      console.log("skipped: --user needs root to switch users");
      return;
    }
    const d = tempDir();
    const vol = join(d, "vol");
    const out = join(d, "out");
    writeFileSync(out, "", { mode: 0o666 });
    chmodSync(out, 0o666);
    const render = join(d, "rendered");
    kubeWrite(vol, { db_password: "pw-user-one" });
    const app = `echo "start $$ $(id -u):$(id -g) $DB_PASSWORD $(cat "$RENDER/DB_PASSWORD")" >> "$OUT"; while :; do sleep 0.05; done`;
    const run = launch(["--user", "nobody", "--secrets-dir", vol, "--debounce", "200ms", "--render", render], out, { RENDER: render }, app);
    await waitFor(() => starts(out).length === 1, "first start");
    expect(starts(out)[0]).toMatch(/ 65534:65534 pw-user-one pw-user-one$/);
    const st = statSync(join(render, "DB_PASSWORD"));
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o400]);
    // DIR is root's (the app cannot rename what is in it), readable by the app's group only.
    const dirSt = statSync(render);
    expect([dirSt.uid, dirSt.gid, dirSt.mode & 0o777]).toEqual([0, 65534, 0o750]);
    kubeWrite(vol, { db_password: "pw-user-two" });
    await waitFor(() => starts(out).length === 2, "restart as the app user");
    expect(starts(out)[1]).toMatch(/ 65534:65534 pw-user-two pw-user-two$/);
    expect((await stop(run)).code).toBe(143);
  });
  it.each([["subreaper", false], ["PID 1", true]] as const)("restart (%s): the old app's whole process group is gone before the new app starts", async (_mode, pid1) => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db_password"), "pw-group-one");
    const out = join(d, "out");
    // Each generation starts a worker in its group, then reports whether the previous
    // generation's worker still exists (seen from inside the same PID namespace).
    const app = `prev=$(tail -n 1 "$OUT" 2>/dev/null | cut -d" " -f3); sleep 1000 & ` +
      `if [ -n "$prev" ] && kill -0 "$prev" 2>/dev/null; then old=alive; else old=gone; fi; ` +
      `echo "start $$ $! $old $DB_PASSWORD" >> "$OUT"; wait`;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", OUT: out };
    const args = ["--log-level", "info", "--secrets-dir", secrets, "--debounce", "100ms", "--", "sh", "-c", app];
    const run = pid1
      ? start("unshare", ["--pid", "--fork", "--mount-proc", LATCHKEY, ...args], { env, timeoutMs: 90_000 })
      : start(LATCHKEY, args, { env, timeoutMs: 90_000 });
    // unshare only waits: signals go to latchkey itself (also when the test fails, so that
    // nothing outlives it inside the namespace).
    const target = pid1 ? await latchkeyUnder(run.proc.pid!) : run.proc.pid!;
    try {
      await waitFor(() => starts(out).length === 1, "first start");
      writeFileSync(join(secrets, ".n"), "pw-group-two");
      renameSync(join(secrets, ".n"), join(secrets, "db_password"));
      await waitFor(() => starts(out).length === 2, "restart");
      expect(starts(out)[1]).toMatch(/ gone pw-group-two$/);
    } finally {
      process.kill(target, "SIGTERM");
    }
    const r = await run.done;
    expect(r.code).toBe(143);
  });
  it("the startup gate vets a changed set: a pre-start hook that fails it → no restart; one that passes → restart", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    const file = join(secrets, "db_password");
    writeFileSync(file, "pw-gate-one");
    const out = join(d, "out");
    const hooks = join(d, "hooks");
    // The hook runs with the candidate environment; it refuses passwords ending in "-bad".
    const hook = `echo "hook $DB_PASSWORD" >> "${hooks}"; case "$DB_PASSWORD" in *-bad) exit 1;; esac`;
    const run = launch(["--secrets-dir", secrets, "--debounce", "100ms", "--pre-start", `sh -c '${hook}'`], out);
    let stderr = "";
    run.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    await waitFor(() => starts(out).length === 1, "first start");
    writeInPlace(file, "pw-gate-bad");
    await waitFor(() => lines(hooks).includes("hook pw-gate-bad"), "the hook to see the candidate");
    await waitFor(() => stderr.includes("rejected by the startup gate"), "the rejection");
    await sleep(500);
    expect(starts(out)).toHaveLength(1);
    writeInPlace(file, "pw-gate-two");
    await waitFor(() => starts(out).length === 2, "restart after the gate passed");
    expect(starts(out)[1]).toMatch(/ pw-gate-two$/);
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.stderr).not.toContain("pw-gate");
  });
  it("--exec: rotation settings warn that they do nothing; --render still writes the files", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db_password"), "pw-exec-one");
    const render = join(d, "rendered");
    const r = await latchkey(["--exec", "--secrets-dir", secrets, "--on-change", "none", "--render", render, "--", "sh", "-c", `cat "${render}/DB_PASSWORD" > "${d}/seen"`],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--on-change: no effect with --exec/);
    expect(readFileSync(join(d, "seen"), "utf8")).toBe("pw-exec-one");
    expect(r.stderr).not.toContain("pw-exec");
  });

  it("a bad rotation setting is a one-line error before anything starts", async () => {
    const d = tempDir();
    const r = await latchkey(["--on-change", "reload", "--", "sh", "-c", `touch "${d}/ran"`], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--on-change: invalid value 'reload'/);
    expect(lines(join(d, "ran"))).toEqual([]);
    const e = await latchkey(["--", "true"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LATCHKEY_DEBOUNCE: "1s", LATCHKEY_DEBOUNCE_MAX: "100ms" } });
    expect(e.code).toBe(78);
    expect(e.stderr).toMatch(/LATCHKEY_DEBOUNCE_MAX: invalid value '100ms'/);
  });
  it("VAR_FILE into a kubelet volume elsewhere: the swap restarts the app once with the new value", async () => {
    const d = tempDir();
    const vol = join(d, "etc-app");
    const out = join(d, "out");
    kubeWrite(vol, { db_password: "pw-varfile-one" });
    const empty = join(d, "secrets");
    mkdirSync(empty);
    const run = launch(["--secrets-dir", empty, "--file-vars", "DB_PASSWORD", "--debounce", "200ms"], out, { DB_PASSWORD_FILE: join(vol, "db_password") });
    await waitFor(() => starts(out).length === 1, "first start");
    expect(starts(out)[0]).toMatch(/ pw-varfile-one$/);
    kubeWrite(vol, { db_password: "pw-varfile-two" });
    await waitFor(() => starts(out).length === 2, "restart after the swap");
    await sleep(1000);
    expect(starts(out)).toHaveLength(2);
    expect(starts(out)[1]).toMatch(/ pw-varfile-two$/);
    expect((await stop(run)).code).toBe(143);
  });
  it("SIGTERM while the gate vets a rotated set: latchkey stops promptly, the hook is not left behind", async () => {
    const d = tempDir();
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    const file = join(secrets, "db_password");
    writeFileSync(file, "pw-slow-one");
    const out = join(d, "out");
    const hookPid = join(d, "hook.pid");
    const hook = `case "$DB_PASSWORD" in *-two) echo $$ > "${hookPid}"; exec sleep 30;; esac`;
    const run = launch(["--secrets-dir", secrets, "--debounce", "100ms", "--pre-start", `sh -c '${hook}'`], out);
    await waitFor(() => starts(out).length === 1, "first start");
    writeInPlace(file, "pw-slow-two");
    await waitFor(() => lines(hookPid).length === 1, "the vetting hook to run");
    const r = await stop(run);
    expect(r.code).toBe(143);
    expect(r.ms).toBeLessThan(8000);
    const pid = Number(lines(hookPid)[0]);
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, "the hook to be gone", 15_000);
    expect(starts(out)).toHaveLength(1);
  });
  it("Compose-style bind-mounted secret file written in place on the host side → one restart", async () => {
    if (process.getuid?.() !== 0) {
      console.log("skipped: a bind mount needs root (unshare -m)");
      return;
    }
    const d = tempDir();
    const host = join(d, "host-db_password");
    writeFileSync(host, "pw-bind-one");
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db_password"), "");
    const out = join(d, "out");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", OUT: out };
    // Like docker's `-v ./db_password:/run/secrets/db_password`: the host file's inode, seen
    // through a bind mount in another mount namespace; the host writes to its own path.
    const script = `mount --bind "${host}" "${join(secrets, "db_password")}" && exec "${LATCHKEY}" --log-level info --secrets-dir "${secrets}" --debounce 200ms -- sh -c '${APP.replace(/'/g, "'\\''")}'`;
    const run = start("unshare", ["-m", "sh", "-c", script], { env, timeoutMs: 90_000 });
    try {
      await waitFor(() => starts(out).length === 1, "first start");
      expect(starts(out)[0]).toMatch(/ pw-bind-one$/);
      writeInPlace(host, "pw-bind-two");
      await waitFor(() => starts(out).length === 2, "restart after the host wrote in place");
      expect(starts(out)[1]).toMatch(/ pw-bind-two$/);
    } finally {
      run.proc.kill("SIGTERM");
    }
    expect((await run.done).code).toBe(143);
  });
});
