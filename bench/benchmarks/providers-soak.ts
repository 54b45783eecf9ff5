/**
 * Issue 15, target 3, as the issue words it: one latchkey with 10 `aws-sm://` references (moto
 * on 127.0.0.1) and 10 `vault://` references (a real OpenBao) polled every 5 s, supervising
 * `sleep infinity`, for an hour; beside it, a latchkey with no provider at all supervising the
 * same app. Every minute /proc/PID/smaps_rollup of each latchkey (not the app) is read.
 *
 * Targets: with both providers, anonymous memory ≤ 25 MB after the hour and flat from minute
 * 10 (the least-squares line through minutes 10…60 moves ≤ 1 MB: one sample can sit a few
 * hundred KB high with garbage waiting for the next collection, the line does not); with no
 * provider, ≤ 10 MB at every sample from minute 10 and flat by the same rule.
 *
 * Long: BENCH_SOAK_MINUTES (default 60; BENCH_QUICK: 3), BENCH_SOAK_SAMPLE_S (default 60),
 * BENCH_SOAK_POLL (default 5s). Progress goes to stderr each sample, so a run under nohup can
 * be watched in its log.
 */
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { motoEnv, startMoto, type Moto } from "../../test/servers/aws/moto.ts";
import { treeCommit } from "../lib/machine.ts";
import { alive, procStat, sleep, smapsRollup } from "../lib/proc.ts";
import { FLAT_FROM_MIN, FLAT_MB, fmt, table, trendFrom, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";
import { clientToken, latchkeyEnv, OPENBAO_VERSION, putSecrets, startBao, supervise, type OpenBao, type Supervised } from "../providers/vault-openbao.ts";

const REFS = 10;
const TARGET_MB = 25;
const IDLE_TARGET_MB = 10;

interface Sample {
  min: number;
  anon: number;
  rss: number;
  cpu: number;
}

const MB = (kb: number) => kb / 1024;

async function awsSecrets(moto: Moto): Promise<Record<string, string>> {
  const admin = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  const env: Record<string, string> = {};
  try {
    for (let i = 0; i < REFS; i++) {
      const name = `soak/a${String(i).padStart(2, "0")}`;
      await admin.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ password: `soak-only-${i}` }) }));
      env[`A${String(i).padStart(3, "0")}`] = `aws-sm://${name}#password`;
    }
  } finally {
    admin.destroy();
  }
  return env;
}

export const benchmark: Benchmark = {
  name: "providers-soak",
  title: "Memory over an hour: 10 aws-sm:// and 10 vault:// references, and no provider",
  order: 49,
  async run(ctx: Context): Promise<string> {
    const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? (ctx.quick ? 3 : 60));
    const sampleS = Number(process.env.BENCH_SOAK_SAMPLE_S ?? 60);
    const poll = process.env.BENCH_SOAK_POLL ?? "5s";
    // The harness names the commit at the end; an hour later the tree may have moved on.
    const head = treeCommit();
    let moto: Moto | null = null;
    let bao: OpenBao | null = null;
    const subjects: { name: string; sup: Supervised; samples: Sample[] }[] = [];
    try {
      moto = await startMoto();
      bao = await startBao();
      await putSecrets(bao, REFS);
      const token = (await clientToken(bao)).token;
      const both = { ...latchkeyEnv(bao, token, REFS), ...motoEnv(moto), ...(await awsSecrets(moto)) };
      const idle = ["--log-level", "warn", "--", "sleep", "infinity"];
      subjects.push({ name: "both providers", sup: await supervise([ctx.latchkey, "--poll-interval", poll, ...idle], both, "sleep"), samples: [] });
      subjects.push({ name: "no provider", sup: await supervise([ctx.latchkey, ...idle], { PATH: "/usr/bin:/bin" }, "sleep"), samples: [] });
      const t0 = Date.now();
      for (let i = 0; i <= Math.round((minutes * 60) / sampleS); i++) {
        const due = t0 + i * sampleS * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        const min = (Date.now() - t0) / 60_000;
        const parts: string[] = [];
        for (const s of subjects) {
          if (!alive(s.sup.pid)) throw new Error(`latchkey (${s.name}) exited during the soak (minute ${fmt(min, 1)}): ${s.sup.stderr().slice(-1500)}`);
          const m = smapsRollup(s.sup.pid);
          const st = procStat(s.sup.pid)!;
          const x: Sample = { min, anon: MB(m.Anonymous ?? 0), rss: MB(m.Rss ?? 0), cpu: st.utime + st.stime };
          s.samples.push(x);
          parts.push(`${s.name} anon ${fmt(x.anon, 2)} MB rss ${fmt(x.rss, 1)} MB cpu ${fmt(x.cpu, 1)} s`);
        }
        ctx.log(`providers-soak minute ${fmt(min, 1)}/${minutes}: ${parts.join(" · ")}`);
      }
      const judge = (s: (typeof subjects)[number]) => trendFrom(s.samples, (x) => x.anon);
      const [p, n] = subjects.map(judge) as [ReturnType<typeof judge>, ReturnType<typeof judge>];
      const rows = subjects[0]!.samples.map((x, i) => [
        fmt(x.min, sampleS >= 60 ? 0 : 1),
        ...subjects.flatMap((s) => {
          const y = s.samples[i]!;
          return [fmt(y.anon, 2), fmt(y.rss, 1), fmt(y.cpu, 1)];
        }),
      ]);
      const flat = (j: typeof p) =>
        `the least-squares line through minutes ${fmt(j.from.min, 0)}–${fmt(j.last.min, 0)} moves ${j.rise >= 0 ? "+" : ""}${fmt(j.rise, 2)} MB (${fmt(j.from.anon, 2)} MB at minute ${fmt(j.from.min, 0)}, ${fmt(j.last.anon, 2)} MB at the end; target |Δ| ≤ ${FLAT_MB} MB)`;
      return [
        `The built binary, \`latchkey --poll-interval ${poll} --log-level warn -- sleep infinity\` with ${REFS} \`aws-sm://\` references (moto on`,
        `127.0.0.1; a check is one DescribeSecret per secret) and ${REFS} \`vault://\` KV v2 references (OpenBao ${OPENBAO_VERSION} \`bao server -dev\` on 127.0.0.1,`,
        "a no-TTL token); beside it, `latchkey --log-level warn -- sleep infinity` with no reference at all. The tree's commit when the soak",
        `started: ${head}. Memory of each latchkey itself (not the app) from /proc/PID/smaps_rollup every ${sampleS} s for ${minutes} minutes; MB are MiB;`,
        "CPU is user+system seconds since it started.",
        "",
        table(["minute", ...subjects.flatMap((s) => [`${s.name}: anonymous`, "RSS", "CPU s"])], rows),
        "",
        verdict(p.last.anon <= TARGET_MB, `both providers, anonymous memory after ${fmt(p.last.min, 0)} minutes: ${fmt(p.last.anon, 2)} MB (peak from minute ${FLAT_FROM_MIN}: ${fmt(p.peak, 2)} MB; target ≤ ${TARGET_MB} MB)`),
        "",
        verdict(Math.abs(p.rise) <= FLAT_MB, `both providers flat from minute ${FLAT_FROM_MIN}: ${flat(p)}`),
        "",
        verdict(n.peak <= IDLE_TARGET_MB, `no provider, anonymous memory from minute ${FLAT_FROM_MIN}: at most ${fmt(n.peak, 2)} MB, ${fmt(n.last.anon, 2)} MB at the end (target ≤ ${IDLE_TARGET_MB} MB)`),
        "",
        verdict(Math.abs(n.rise) <= FLAT_MB, `no provider flat from minute ${FLAT_FROM_MIN}: ${flat(n)}`),
      ].join("\n");
    } finally {
      for (const s of subjects) await s.sup.stop();
      await bao?.stop();
      await moto?.stop();
    }
  },
};
