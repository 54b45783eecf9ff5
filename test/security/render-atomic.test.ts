/**
 * Finding 2 (issue #12): --render is all or nothing. A rotation whose render fails midway (a
 * full tmpfs: ENOSPC after the first file) leaves the app the complete old set; a start that
 * fails after rendering leaves no secret file behind.
 *
 * The tmpfs is mounted in a private mount namespace (the machine never sees it); the test reads
 * what the app sees through /proc/<app pid>/root, which is the app's view of the filesystem.
 */
import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { run, start } from "../helpers/run.ts";
import { tempDir, waitFor } from "../helpers/processes.ts";

const root = process.getuid!() === 0;
const skip = (what: string) => console.log(`skipped: ${what} needs root (mount namespaces, --user); this run is uid ${process.getuid!()}`);

/** What the app reads as DIR/NAME for each name, through its own mount namespace. */
function seen(pid: number, dir: string, names: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const n of names) {
    try {
      out[n] = readFileSync(`/proc/${pid}/root${dir}/${n}`, "utf8");
    } catch {
      out[n] = null;
    }
  }
  return out;
}

describe("--render all or nothing (finding 2)", () => {
  it("a rotation that fills the tmpfs midway: the app still reads the complete old set", async () => {
    if (!root) return skip("a private tmpfs");
    const d = tempDir("latchkey-render-enospc-");
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    const names = ["A_FIRST", "B_BIG", "C_LAST"];
    for (const n of names) writeFileSync(join(secrets, n.toLowerCase()), `${n}-old`);
    const render = join(d, "render");
    mkdirSync(render);
    chownSync(render, 65534, 65534);
    const app = `trap ':' HUP; while :; do sleep 0.05; done`;
    // 64 KiB of tmpfs: room for the small set, not for a 100 KB secret.
    const script = `mount -t tmpfs -o size=64k,mode=0700,uid=65534,gid=65534 tmpfs "$1"`;
    const lk = start("unshare", ["--mount", "--propagation", "private", "sh", "-c", `${script} && shift && exec "$@"`, "sh", render,
      LATCHKEY, "--log-level", "info", "--user", "65534:65534", "--secrets-dir", secrets, "--max-size", "1MiB", "--debounce", "50ms",
      "--on-change", "signal:HUP", "--render", render, "--", "sh", "-c", app], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeoutMs: 60_000 });
    let stderr = "";
    lk.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    try {
      await waitFor(() => /app started pid=\d+/.test(stderr), "the app's start");
      const pid = Number(/app started pid=(\d+)/.exec(stderr)![1]);
      const old = { A_FIRST: "A_FIRST-old", B_BIG: "B_BIG-old", C_LAST: "C_LAST-old" };
      expect(seen(pid, render, names)).toEqual(old);
      // One rotation: the first file fits, the second does not.
      const next = { a_first: "A_FIRST-new", b_big: "x".repeat(100_000), c_last: "C_LAST-new" };
      for (const [f, v] of Object.entries(next)) {
        writeFileSync(join(d, "next"), v);
        renameSync(join(d, "next"), join(secrets, f));
      }
      await waitFor(() => /cannot render the new secrets/.test(stderr), "the failed render");
      expect(stderr).toMatch(/ENOSPC/);
      expect(seen(pid, render, names), "after a failed render the app must see the old set, whole").toEqual(old);
      // Nothing of the failed set is left on the tmpfs: only the old set and its links.
      const left = readdirSync(`/proc/${pid}/root${render}`).sort();
      expect(left.filter((n) => n.startsWith("..2"))).toHaveLength(1);
      expect(left.filter((n) => !n.startsWith(".."))).toEqual(names);
    } finally {
      lk.proc.kill("SIGTERM");
      await lk.done;
    }
  });

  describe.each([["supervise", []], ["exec", ["--exec"]]] as const)("a start that fails after rendering (%s mode)", (_mode, mode) => {
    it.each([["a directory latchkey creates", false], ["a directory the app owns", true]] as const)("leaves nothing rendered in %s", async (_what, preexisting) => {
      if (!root) return skip("the app-owned directory");
      const d = tempDir("latchkey-render-failstart-");
      const secrets = join(d, "secrets");
      mkdirSync(secrets);
      writeFileSync(join(secrets, "db_password"), "never-to-be-left-behind");
      const render = join(d, "render");
      if (preexisting) {
        mkdirSync(render);
        chownSync(render, 65534, 65534);
      }
      // The app exists when latchkey checks the command, and is gone when it is started: a
      // pre-start hook removes it (the gate runs after that check and before the render).
      const bin = join(d, "app");
      copyFileSync("/bin/true", bin);
      const r = await run(LATCHKEY, [...mode, "--secrets-dir", secrets, "--render", render, "--pre-start", `/bin/sh -c 'rm -f ${bin}'`, "--", bin],
        { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
      expect(r.code, r.stderr).not.toBe(0);
      if (preexisting) {
        expect(readdirSync(render), "what a failed start rendered").toEqual([]);
      } else {
        expect(existsSync(render), `${render} (created by the failed start) should be gone`).toBe(false);
      }
    });
  });
});
