/**
 * The self-contained latchkey (issue 14, build/tree.ts): release sizes per architecture, and
 * what starting through its own loader and libraries costs against the single executable that
 * uses the machine's (same build, same bytes but the ELF interpreter and RUNPATH), paired. The
 * arm64 executable's start under qemu-user is reported, not judged: emulation says nothing
 * about arm64 hardware.
 *
 * Needs dist/release (npm run release; built here when missing) and root for the mount
 * namespace that puts the tree at /opt/latchkey without touching the machine's /opt.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { root } from "../lib/paths.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";

/** bench/fixtures/portable-paired.ts's answer for one command line ([self-contained, single] pairs of ms). */
interface Cmp { median: number; p25: number; p75: number; min: [number, number]; p10: [number, number]; med: [number, number] }
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET = 1.03;
const mib = (n: number) => (n / 2 ** 20).toFixed(1);

function du(dir: string): number {
  return Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split(/\s/)[0]);
}

export const benchmark: Benchmark = {
  name: "portable",
  title: "Self-contained latchkey (x64, arm64)",
  order: 75,
  async run(ctx: Context): Promise<string> {
    const rel = join(root, "dist", "release");
    const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
    const tarball = (a: string) => join(rel, `latchkey-${version}-linux-${a}.tar.gz`);
    if (!existsSync(tarball("x64")) || !existsSync(tarball("arm64"))) {
      ctx.log("building the release (node build/release.ts)");
      const t0 = performance.now();
      execFileSync(process.execPath, [join(root, "build", "release.ts")], { stdio: ["ignore", "ignore", "inherit"] });
      ctx.log(`release built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const sizes = ["x64", "arm64"].map((a) => {
      const tree = join(rel, `linux-${a}`, "tree", "opt", "latchkey");
      const libs = readdirSync(join(tree, "lib")).reduce((n, f) => n + statSync(join(tree, "lib", f)).size, 0);
      return [a, `${mib(statSync(tarball(a)).size)} MiB`, `${mib(du(tree))} MiB`, `${mib(statSync(join(tree, "bin", "latchkey")).size)} MiB`, `${mib(libs)} MiB`];
    });

    const pairs = Number(process.env.BENCH_PAIRS ?? (ctx.quick ? 20 : 200));
    ctx.log(`paired runs: ${pairs} × (/opt/latchkey/bin/latchkey, single executable) -- /bin/true`);
    const r = spawnSync("unshare", ["--mount", process.execPath, join(root, "bench", "fixtures", "portable-paired.ts"),
      join(rel, "linux-x64", "tree", "opt", "latchkey"), join(rel, "linux-x64", "latchkey"), String(pairs)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`portable-paired: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
    const p = JSON.parse(r.stdout) as Record<"run" | "version", Cmp>;

    // arm64 under qemu-user, with Debian's arm64 libraries unpacked by the build.
    const arm64 = join(rel, "linux-arm64", "latchkey");
    const env = { ...process.env, QEMU_LD_PREFIX: join(root, ".cache", "debs", "arm64", "root") };
    const times: number[] = [];
    const n = ctx.quick ? 3 : 15;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const s = spawnSync(arm64, ["--", "/bin/true"], { env, stdio: "ignore" });
      if (s.status !== 0) throw new Error(`arm64 latchkey -- /bin/true: exit ${s.status}`);
      times.push(performance.now() - t0);
    }

    return [
      "Release tarballs (`npm run release`, gzip -9) and what they unpack to (`/opt/latchkey`):",
      "",
      table(["arch", "tarball (gzip)", "unpacked", "bin/latchkey", "lib/ (loader + 7 libraries)"], sizes),
      "",
      `Start, paired and interleaved (${pairs} pairs; ratio = self-contained / single executable, same build;`,
      "the self-contained one mounted at /opt/latchkey in a private mount namespace):",
      "",
      table(["command", "median ratio", "p25", "p75", "fastest ms (self-contained / single)", "p10 ms", "median ms"], (["run", "version"] as const).map((k) => [
        k === "run" ? "`latchkey -- /bin/true`" : "`latchkey version`", fmt(p[k].median, 3), fmt(p[k].p25, 3), fmt(p[k].p75, 3),
        `${fmt(p[k].min[0], 1)} / ${fmt(p[k].min[1], 1)}`, `${fmt(p[k].p10[0], 1)} / ${fmt(p[k].p10[1], 1)}`, `${fmt(p[k].med[0], 1)} / ${fmt(p[k].med[1], 1)}`,
      ])),
      "",
      "On a loaded machine the pair ratios scatter widely (the quartiles show how much); the fastest",
      "and 10th-percentile times, which other processes' load inflates least, are the check of the",
      "mechanism itself: the same bytes, loaded by the tree's loader from /opt/latchkey/lib.",
      "",
      verdict(p.run.median <= TARGET, `self-contained start ${fmt(p.run.median, 3)}× the single executable's (median of pair ratios; target ≤ ${TARGET})`),
      "",
      `arm64 under qemu-user (reported, not judged): \`latchkey -- /bin/true\` median ${fmt(median(times), 0)} ms over ${n} runs`,
      "(Debian's qemu-user-static on this x86-64 machine; says nothing about arm64 hardware).",
    ].join("\n");
  },
};
