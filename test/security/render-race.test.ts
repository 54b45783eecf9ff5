/**
 * Finding 1 (issue #12): the app owns the --render directory and races latchkey's writes in it.
 * A racer running as the app user (uid 65534) renames a symlink to a root-owned victim file
 * over every entry it sees in the directory, and in every directory inside it, while latchkey
 * renders 30 rotations. Before the fix latchkey chowned the temp file by path and handed the
 * victim to the app (the issue saw it after 1-4 rotations); the victim must stay root's. The same
 * race runs against a --template destination directory the app owns (the same writer).
 */
import { spawn } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { start } from "../helpers/run.ts";
import { sleep, tempDir, waitFor } from "../helpers/processes.ts";

const APP_UID = 65534;
const ROTATIONS = 30;

/** Runs as the app user until STOP exists: plants symlinks to VICTIM over everything in DIR, and one level down. */
const RACER = `
const fs = require("node:fs");
const [dir, victim, stop] = process.argv.slice(2);
let n = 0;
const plant = (d, name) => {
  const l = d + "/.r" + process.pid + "-" + (n++);
  try { fs.symlinkSync(victim, l); fs.renameSync(l, d + "/" + name); } catch { try { fs.unlinkSync(l); } catch {} }
};
for (let i = 0; ; i++) {
  if (i % 200 === 0 && fs.existsSync(stop)) break;
  let names = [];
  try { names = fs.readdirSync(dir); } catch {}
  for (const e of names) {
    if (e.startsWith(".r")) continue;
    plant(dir, e);
    let inner = [];
    try { inner = fs.readdirSync(dir + "/" + e); } catch {}
    for (const f of inner) if (!f.startsWith(".r")) plant(dir + "/" + e, f);
  }
}
`;

/**
 * The race against one output: `--render DIR`, or `--template SRC=DIR/app.conf` (the same
 * file-set writer, reached through the template's own destination directory).
 */
async function race(output: "render" | "template"): Promise<void> {
  if (process.getuid!() !== 0) {
    console.log("skipped: the race needs root (latchkey as root, the racer as uid %d); this run is uid %d", APP_UID, process.getuid!());
    return;
  }
  const d = tempDir("latchkey-render-race-");
  const secrets = join(d, "secrets");
  mkdirSync(secrets);
  const secret = join(secrets, "db_password");
  writeFileSync(secret, "rot-0");
  const victim = join(d, "victim");
  writeFileSync(victim, "root's\n", { mode: 0o600 });
  const render = join(d, output === "render" ? "render" : "conf");
  mkdirSync(render, { mode: 0o700 });
  const template = join(d, "conf.liquid");
  if (output === "template") writeFileSync(template, "password={{ DB_PASSWORD }}\n");
  const outputFlags = output === "render" ? ["--render", render] : ["--template", `${template}=${join(render, "app.conf")}`];
  chownSync(render, APP_UID, APP_UID); // handed to the app, as an emptyDir or a --tmpfs with uid= is
  const racerJs = join(d, "racer.cjs");
  writeFileSync(racerJs, RACER, { mode: 0o644 });
  const stop = join(d, "stop");

  const ready = join(d, "ready");
  writeFileSync(ready, "", { mode: 0o666 });
  chownSync(ready, APP_UID, APP_UID);
  // Says so once its HUP trap is set: a HUP before that would end it.
  const app = `trap ':' HUP; echo ready > ${ready}; while :; do sleep 0.05; done`;
  const run = start(LATCHKEY, ["--log-level", "info", "--user", `${APP_UID}:${APP_UID}`, "--secrets-dir", secrets, "--debounce", "20ms",
    "--on-change", "signal:HUP", ...outputFlags, "--", "sh", "-c", app], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeoutMs: 240_000 });
  let stderr = "";
  run.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const racer = spawn(process.env.LATCHKEY_TEST_NODE ?? process.execPath, [racerJs, render, victim, stop], { uid: APP_UID, gid: APP_UID, stdio: "ignore" });
  let racerError: Error | undefined;
  racer.on("error", (e) => (racerError = e));
  const attempts = () => (stderr.match(/secrets changed; signalled the app|cannot render the new secrets/g) ?? []).length;
  let wins = 0;
  let stalled: string | undefined;
  try {
    await waitFor(() => readFileSync(ready, "utf8") !== "", "the app's start", 30_000);
    for (let i = 1; i <= ROTATIONS; i++) {
      const before = attempts();
      writeFileSync(join(d, "next"), `rot-${i}`); // beside the secrets dir: nothing half-written in it
      renameSync(join(d, "next"), secret);
      try {
        await waitFor(() => attempts() > before, `rotation ${i} rendered (or refused)`, 20_000);
      } catch (e) {
        stalled = (e as Error).message;
        console.log(stderr.split("\n").slice(-8).join("\n"));
      }
      const st = statSync(victim);
      if (st.uid !== 0 || st.gid !== 0 || (st.mode & 0o777) !== 0o600) {
        wins++;
        console.log(`rotation ${i}: the racer won: victim is now uid ${st.uid} gid ${st.gid} mode ${(st.mode & 0o777).toString(8)}`);
        chownSync(victim, 0, 0); // and go on: count every win
        (await import("node:fs")).chmodSync(victim, 0o600);
      }
      if (stalled) break;
      await sleep(20);
    }
  } finally {
    writeFileSync(stop, "");
    if (!racerError) await new Promise((r) => (racer.exitCode !== null ? r(null) : racer.once("exit", r)));
    run.proc.kill("SIGTERM");
    await run.done;
  }
  console.log(`${ROTATIONS} rotations (--${output}): ${(stderr.match(/cannot render the new secrets/g) ?? []).length} writes refused because of the racer; racer wins: ${wins} (0 expected)`);
  expect(racerError, "the racer never ran: the race proves nothing").toBeUndefined();
  expect(wins, `the racer took ownership of a root file in ${wins} of ${ROTATIONS} rotations`).toBe(0);
  expect(statSync(victim).uid).toBe(0);
  expect(stalled, `every rotation reached latchkey's --${output} write`).toBeUndefined();
}

describe("--render in a directory the app owns (finding 1)", () => {
  it(`a racer as the app user, planting symlinks to a root file over every entry for ${ROTATIONS} rotations, wins zero times`, () => race("render"));
});

describe("--template into a directory the app owns (finding 1)", () => {
  it(`a racer as the app user, planting symlinks to a root file over every entry for ${ROTATIONS} rotations, wins zero times`, () => race("template"));
});
