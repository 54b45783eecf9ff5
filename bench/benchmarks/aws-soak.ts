/**
 * Memory over time while polling AWS Secrets Manager (issue 15, target 3): the built binary
 * with 10 `aws-sm://` references, `--poll-interval 5s`, supervising `sleep`, against moto on
 * 127.0.0.1, for an hour. Every minute /proc/PID/smaps_rollup of latchkey (not the app) is
 * read; the section is the whole curve, written when the run ends.
 *
 *   bench/run aws-soak                                       the hour, 5 s poll
 *   BENCH_SOAK_MINUTES=10 BENCH_SOAK_POLL=1s bench/run aws-soak   a short, harder check
 *
 * Targets: anonymous memory ≤ 25 MB at the end, and flat from minute 10 to the end: the
 * median of the last ten samples is at most 1 MB above the median of the ten from minute 10
 * (one sample moves by a few MB with the garbage waiting for the next full collection; a
 * median of ten does not).
 */
import { spawn } from "node:child_process";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { motoEnv, startMoto } from "../../test/servers/aws/moto.ts";
import { alive, childrenOf, procStat, sleep, smapsRollup, waitFor } from "../lib/proc.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET_MB = 25;
const FLAT_MB = 1;
const REFS = 10;

interface Sample {
  min: number;
  anonMb: number;
  rssMb: number;
  cpuS: number;
}

export const benchmark: Benchmark = {
  name: "aws-soak",
  title: "Memory while polling AWS Secrets Manager (soak)",
  order: 46,
  async run(ctx: Context): Promise<string> {
    const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? (ctx.quick ? 2 : 60));
    const poll = process.env.BENCH_SOAK_POLL ?? "5s";
    const everyS = Number(process.env.BENCH_SOAK_SAMPLE_S ?? (minutes <= 10 ? 30 : 60));
    const moto = await startMoto();
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", ...motoEnv(moto) };
    let proc: ReturnType<typeof spawn> | null = null;
    let child = 0;
    try {
      const admin = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
      for (let i = 0; i < REFS; i++) {
        const name = `soak/s${String(i).padStart(2, "0")}`;
        await admin.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ password: `soak-only-${i}` }) }));
        env[`SOAK_${i}`] = `aws-sm://${name}#password`;
      }
      admin.destroy();
      proc = spawn(ctx.latchkey, ["--poll-interval", poll, "--log-level", "warn", "--", "sleep", "infinity"], { env, stdio: ["ignore", "ignore", "inherit"] });
      const pid = proc.pid!;
      child = await waitFor("sleep under latchkey", 30_000, () => childrenOf(pid)[0]);
      const t0 = Date.now();
      const samples: Sample[] = [];
      const take = () => {
        if (!alive(pid)) throw new Error("aws-soak: latchkey exited during the soak");
        const m = smapsRollup(pid);
        const st = procStat(pid)!;
        samples.push({ min: (Date.now() - t0) / 60_000, anonMb: (m.Anonymous ?? 0) / 1024, rssMb: (m.Rss ?? 0) / 1024, cpuS: st.utime + st.stime });
      };
      take();
      for (let k = 1; (k * everyS) / 60 <= minutes + 1e-9; k++) {
        await sleep(t0 + k * everyS * 1000 - Date.now());
        take();
        const s = samples.at(-1)!;
        ctx.log(`aws-soak ${fmt(s.min, 1)} min: anonymous ${fmt(s.anonMb, 1)} MB, RSS ${fmt(s.rssMb, 1)} MB, CPU ${fmt(s.cpuS)} s`);
      }
      const end = samples.at(-1)!;
      const from = samples.find((s) => s.min >= Math.min(10, minutes / 2) - 1e-9) ?? samples[0]!;
      const after = samples.filter((s) => s.min >= from.min);
      const med = (xs: Sample[]) => median(xs.map((x) => x.anonMb));
      const growth = med(after.slice(-10)) - med(after.slice(0, 10));
      const peak = Math.max(...after.map((s) => s.anonMb));
      return [
        `The built binary, \`latchkey --poll-interval ${poll} -- sleep infinity\` with ${REFS} \`aws-sm://\` references (moto on 127.0.0.1, the`,
        `check is one DescribeSecret per secret per poll), for ${minutes} min; /proc/PID/smaps_rollup of latchkey every ${everyS} s.`,
        `CPU is latchkey's own utime+stime since it started.`,
        "",
        table(["minute", "anonymous (MB)", "RSS (MB)", "CPU s"], samples.map((s) => [fmt(s.min, 1), fmt(s.anonMb, 1), fmt(s.rssMb, 1), fmt(s.cpuS)])),
        "",
        verdict(end.anonMb <= TARGET_MB, `anonymous memory after ${fmt(end.min, 0)} min: ${fmt(end.anonMb, 1)} MB (target ≤ ${TARGET_MB} MB)`),
        "",
        verdict(growth <= FLAT_MB, `from minute ${fmt(from.min, 0)} to ${fmt(end.min, 0)}: ${growth >= 0 ? "+" : ""}${fmt(growth, 1)} MB (median of the last ten samples against the first ten), peak ${fmt(peak, 1)} MB (flat: target ≤ +${FLAT_MB} MB)`),
      ].join("\n");
    } finally {
      if (proc?.pid && alive(proc.pid)) {
        const gone = new Promise<void>((r) => proc!.once("exit", () => r()));
        proc.kill("SIGTERM");
        await Promise.race([gone, sleep(5000)]);
        if (alive(proc.pid)) proc.kill("SIGKILL");
      }
      if (child && alive(child)) process.kill(child, "SIGKILL");
      await moto.stop();
    }
  },
};
