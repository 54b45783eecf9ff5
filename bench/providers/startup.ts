/**
 * Startup and memory with no provider configured: latchkey as built vs the same tree with the
 * provider code stubbed out. Lazy loading means the providers cost nothing until used; this
 * measures that claim (target: startup ratio ≤ 1.05).
 */
import { spawn } from "node:child_process";
import { hyperfine } from "../lib/hyperfine.ts";
import { paired } from "../lib/paired.ts";
import { alive, childrenOf, sleep, smapsRollup, waitFor } from "../lib/proc.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Context } from "../lib/types.ts";
import { buildVariant } from "./build.ts";
import { readFileSync } from "node:fs";

const TARGET = 1.05;

async function idleMemory(exe: string, settleMs: number): Promise<Record<string, number>> {
  const proc = spawn(exe, ["--", "sleep", "30"], { stdio: ["ignore", "ignore", "inherit"], env: { PATH: process.env.PATH ?? "" } });
  const pid = proc.pid!;
  const exited = new Promise<void>((r) => proc.on("exit", () => r()));
  let child = 0;
  try {
    child = await waitFor(`sleep under ${pid}`, 10_000, () => childrenOf(pid).find((c) => readFileSync(`/proc/${c}/comm`, "utf8").trim() === "sleep"));
    await sleep(settleMs);
    return smapsRollup(pid);
  } finally {
    proc.kill("SIGTERM");
    await Promise.race([exited, sleep(5000)]);
    if (alive(pid)) proc.kill("SIGKILL");
    if (child && alive(child)) process.kill(child, "SIGKILL");
  }
}

export async function startupSection(ctx: Context): Promise<string> {
  ctx.log("building latchkey with and without the provider code");
  const withP = await buildVariant(ctx.node, "latchkey-with-providers", true);
  const without = await buildVariant(ctx.node, "latchkey-without-providers", false);
  const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 1 : 6));
  const runs = Number(process.env.BENCH_RUNS ?? (ctx.quick ? 10 : 15));
  const env = { PATH: process.env.PATH ?? "" };
  void env;
  const t = hyperfine([
    { name: "with", line: `${withP.exe} -- /bin/true` },
    { name: "without", line: `${without.exe} -- /bin/true` },
    { name: "with --exec", line: `${withP.exe} --exec -- /bin/true` },
    { name: "without --exec", line: `${without.exe} --exec -- /bin/true` },
  ], { rounds, runs, warmup: 3, log: ctx.log });
  const med = (n: string) => median(t.find((x) => x.name === n)!.times) * 1e3;
  const pairs = Number(process.env.BENCH_PAIRS ?? (ctx.quick ? 20 : 200));
  ctx.log(`paired runs: ${pairs} × (with, without)`);
  const p = paired([withP.exe, "--", "/bin/true"], [without.exe, "--", "/bin/true"], pairs);
  const reps = Number(process.env.BENCH_MEM_REPS ?? (ctx.quick ? 1 : 3));
  const mem: Record<string, Record<string, number>[]> = { with: [], without: [] };
  for (let r = 0; r < reps; r++) {
    ctx.log(`memory ${r + 1}/${reps}`);
    mem.with!.push(await idleMemory(withP.exe, 1500));
    mem.without!.push(await idleMemory(without.exe, 1500));
  }
  const mm = (k: string, f: string) => median(mem[k]!.map((x) => x[f] ?? 0)) / 1024;
  const lines = [
    "### Startup and memory with no provider configured",
    "",
    "Two single executables built from the same tree the same way as `build/build.ts` (`bench/providers/build.ts`; the AWS SDK is a SEA asset, not part of the main script): as is, and with the",
    "aws-sm/vault modules, their flag/config registration and the policy wiring stubbed out (the build without providers). App: `/bin/true`; memory: `sleep 30` under",
    `each supervisor, /proc/PID/smaps_rollup of latchkey after 1.5 s, median of ${reps}.`,
    "",
    table(["", "startup median (ms)", "--exec startup median (ms)", "RSS (MB)", "anonymous (MB)", "main script (KB)"], [
      ["**with providers (as shipped)**", fmt(med("with")), fmt(med("with --exec")), fmt(mm("with", "Rss"), 1), fmt(mm("with", "Anonymous"), 1), fmt(withP.bundleBytes / 1024, 0)],
      ["without provider code", fmt(med("without")), fmt(med("without --exec")), fmt(mm("without", "Rss"), 1), fmt(mm("without", "Anonymous"), 1), fmt(without.bundleBytes / 1024, 0)],
    ]),
    "",
    `Paired interleaved runs (${pairs} pairs, with/without): median ratio ${fmt(p.median, 3)} (p25 ${fmt(p.p25, 3)}, p75 ${fmt(p.p75, 3)}); hyperfine medians ratio ${fmt(med("with") / med("without"), 3)}.`,
    "",
    verdict(p.median <= TARGET, `startup with no provider configured / without the provider code = ${fmt(p.median, 3)} (paired median; target ≤ ${TARGET})`),
  ];
  return lines.join("\n");
}
