/**
 * What `--user` adds to a start, and --exec against supervise mode (issue #15, targets 1 and
 * 4): paired, interleaved runs (A and B back to back, alternating which goes first), wall
 * time per pair and CPU (user+sys of the command and everything it waited for, from this
 * process's cutime/cstime) summed per side. Supervise mode switches the main thread's ids for
 * the posix_spawn only as PID 1 (a container's entrypoint), so those rows run latchkey as
 * PID 1 of a fresh PID namespace (`unshare --pid --fork`), on both sides of the pair.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fmt, median, percentile, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET_USER = 1.15;

/** This process's reaped children's CPU, ms (cutime + cstime, in clock ticks of 10 ms). */
function childrenCpuMs(): number {
  const s = readFileSync("/proc/self/stat", "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * 10; // fields 16 and 17 of stat(5)
}

function once(argv: string[]): { ms: number; cpu: number } {
  const c0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status} signal ${r.signal}`);
  return { ms, cpu: childrenCpuMs() - c0 };
}

interface Pair { ratio: number; p25: number; p75: number; a: number; b: number; cpu: number }

function pair(a: string[], b: string[], pairs: number): Pair {
  for (let i = 0; i < 5; i++) { once(a); once(b); }
  const ratios: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  let ca = 0;
  let cb = 0;
  for (let i = 0; i < pairs; i++) {
    let x, y;
    if (i % 2) { x = once(a); y = once(b); } else { y = once(b); x = once(a); }
    ratios.push(x.ms / y.ms);
    as.push(x.ms);
    bs.push(y.ms);
    ca += x.cpu;
    cb += y.cpu;
  }
  return { ratio: median(ratios), p25: percentile(ratios, 25), p75: percentile(ratios, 75), a: median(as), b: median(bs), cpu: ca / Math.max(cb, 1) };
}

export const benchmark: Benchmark = {
  name: "user-spawn",
  title: "--user and --exec: what each adds to a start",
  order: 12,
  async run(ctx: Context): Promise<string> {
    const pairs = Number(process.env.BENCH_PAIRS ?? (ctx.quick ? 20 : 150));
    const lk = ctx.latchkey;
    const pid1 = ["unshare", "--pid", "--fork", "--kill-child"];
    const app = ["--", "/bin/true"];
    const rows: [string, Pair][] = [];
    const run = (what: string, a: string[], b: string[]) => {
      ctx.log(`paired: ${what}`);
      rows.push([what, pair(a, b, pairs)]);
    };
    run("`--user nobody` / plain, supervise as PID 1 (thread switch)", [...pid1, lk, "--user", "nobody", ...app], [...pid1, lk, ...app]);
    run("`--exec --user nobody` / `--exec` (thread switch)", [lk, "--exec", "--user", "nobody", ...app], [lk, "--exec", ...app]);
    run("`--exec --user nobody` / `--exec`, as PID 1", [...pid1, lk, "--exec", "--user", "nobody", ...app], [...pid1, lk, "--exec", ...app]);
    run("`--user nobody` / plain, supervise not PID 1 (exec shim)", [lk, "--user", "nobody", ...app], [lk, ...app]);
    run("`--exec` / supervise", [lk, "--exec", ...app], [lk, ...app]);
    run("`--exec` / supervise, as PID 1", [...pid1, lk, "--exec", ...app], [...pid1, lk, ...app]);
    const get = (i: number) => rows[i]![1];
    const userMet = [0, 1, 2].every((i) => get(i).ratio <= TARGET_USER);
    // "never slower": the paired median at most 1.00 (two decimals, as shown)
    const execMet = [4, 5].every((i) => Math.round(get(i).ratio * 100) <= 100);
    return [
      `${pairs} back-to-back pairs per row, alternating which side goes first; ratio = median of the pair ratios A/B`,
      "(p25–p75 beside it); medians of each side in ms; CPU = the sum of user+sys over all A runs / over all B runs",
      "(this process's cutime+cstime, which counts each command and what it waited for; 10 ms ticks, summed).",
      "",
      table(["pair (A / B)", "ratio", "p25–p75", "A ms", "B ms", "CPU A/B"],
        rows.map(([w, p]) => [w, `**${fmt(p.ratio)}**`, `${fmt(p.p25)}–${fmt(p.p75)}`, fmt(p.a, 1), fmt(p.b, 1), fmt(p.cpu)])),
      "",
      verdict(userMet, `\`--user\` adds at most 15% where the thread switch applies (supervise as PID 1, --exec): ${[0, 1, 2].map((i) => fmt(get(i).ratio)).join(", ")} (target ≤ ${TARGET_USER}); outside PID 1 supervise mode keeps the exec shim: ${fmt(get(3).ratio)}`),
      verdict(execMet, `\`--exec\` no slower than supervise: ${fmt(get(4).ratio)} (not PID 1), ${fmt(get(5).ratio)} (PID 1)`),
    ].join("\n");
  },
};
