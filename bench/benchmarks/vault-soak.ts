/**
 * An hour of Vault polling: latchkey supervising `sleep infinity` with 10 KV v2 secrets from a
 * real OpenBao, polled every 5 s, its memory read from /proc/PID/smaps_rollup every minute (as
 * bench/benchmarks/memory.ts reads it). The question is whether anything accumulates per poll
 * (timers, sockets, caches, log buffers): anonymous memory must stay ≤ 20 MB and be flat from
 * minute 10 to the end. envconsul runs beside it with the same secrets, re-read every ~4.5 s
 * (default_lease_duration 5s), when it is available (bench/providers/vault-openbao.ts).
 *
 * Long: BENCH_SOAK_MINUTES (default 60; BENCH_QUICK: 3) and BENCH_SOAK_SAMPLE_S (default 60).
 * Progress goes to stderr each sample, so a run under nohup can be watched in its log.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { treeCommit } from "../lib/machine.ts";
import { alive, procStat, sleep, smapsRollup } from "../lib/proc.ts";
import { FLAT_FROM_MIN, FLAT_MB, fmt, table, trendFrom, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";
import {
  clientToken, envconsul, envconsulConfig, latchkeyEnv, OPENBAO_VERSION, putSecrets, requestsOf, startBao, supervise, type Supervised,
} from "../providers/vault-openbao.ts";

const N = 10;
const POLL = "5s";
const TARGET_MB = 20;

interface Sample {
  min: number;
  anon: number;
  rss: number;
  dirty: number;
  cpu: number;
  requests: number;
}

const MB = (kb: number) => kb / 1024;

export const benchmark: Benchmark = {
  name: "vault-soak",
  title: "Vault: memory over an hour of polling (OpenBao)",
  order: 48,
  async run(ctx: Context): Promise<string> {
    const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? (ctx.quick ? 3 : 60));
    const sampleS = Number(process.env.BENCH_SOAK_SAMPLE_S ?? 60);
    // The harness names the commit at the end; an hour later the tree may have moved on.
    const head = treeCommit();
    const ec = envconsul(ctx.log);
    ctx.log(ec.note);
    const bao = await startBao();
    const tmp = mkdtempSync(join(tmpdir(), "lk-bench-soak-"));
    const subjects: { name: string; hmac: string; sup: Supervised; samples: Sample[] }[] = [];
    try {
      await putSecrets(bao, N);
      const lk = await clientToken(bao);
      subjects.push({
        name: "latchkey",
        hmac: lk.hmac,
        sup: await supervise([ctx.latchkey, "--poll-interval", POLL, "--log-level", "warn", "--", "sleep", "infinity"], latchkeyEnv(bao, lk.token, N), "sleep"),
        samples: [],
      });
      if (ec.bin) {
        const t = await clientToken(bao);
        const cfg = envconsulConfig(join(tmp, "envconsul"), bao.url, t.token, N, POLL);
        subjects.push({ name: "envconsul", hmac: t.hmac, sup: await supervise([ec.bin, "-config", cfg, "-log-level", "warn", "sleep", "infinity"], { PATH: "/usr/bin:/bin" }, "sleep"), samples: [] });
      }
      const t0 = Date.now();
      for (let i = 0; i <= Math.round((minutes * 60) / sampleS); i++) {
        const due = t0 + i * sampleS * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        const min = (Date.now() - t0) / 60_000;
        const parts: string[] = [];
        for (const s of subjects) {
          if (!alive(s.sup.pid)) throw new Error(`${s.name} exited during the soak (minute ${fmt(min, 1)}): ${s.sup.stderr().slice(-1500)}`);
          const m = smapsRollup(s.sup.pid);
          const st = procStat(s.sup.pid)!;
          const x: Sample = { min, anon: MB(m.Anonymous ?? 0), rss: MB(m.Rss ?? 0), dirty: MB(m.Private_Dirty ?? 0), cpu: st.utime + st.stime, requests: requestsOf(bao, s.hmac).length };
          s.samples.push(x);
          parts.push(`${s.name} anon ${fmt(x.anon, 1)} MB rss ${fmt(x.rss, 1)} MB cpu ${fmt(x.cpu, 1)} s requests ${x.requests}`);
        }
        ctx.log(`soak minute ${fmt(min, 1)}/${minutes}: ${parts.join(" · ")}`);
      }
      const errors = new Map(subjects.map((s) => [s.name, requestsOf(bao, s.hmac).filter((e) => e.error).length]));
      const lkS = subjects[0]!.samples;
      const { from: tenth, last, rise, peak } = trendFrom(lkS, (x) => x.anon);
      const names = subjects.map((s) => s.name);
      const rows = lkS.map((x, i) => [
        fmt(x.min, sampleS >= 60 ? 0 : 1),
        ...subjects.flatMap((s) => {
          const y = s.samples[i]!;
          return [fmt(y.anon, 2), fmt(y.rss, 1), fmt(y.cpu, 1), String(y.requests)];
        }),
      ]);
      const perMin = (s: (typeof subjects)[number]) => {
        const a = s.samples[0]!;
        const b = s.samples[s.samples.length - 1]!;
        return (b.requests - a.requests) / (b.min - a.min);
      };
      return [
        `OpenBao ${OPENBAO_VERSION} (\`bao server -dev\`, in memory, file audit device) on 127.0.0.1; ${N} KV v2 secrets of ~12 bytes;`,
        `each client with its own no-TTL token (no renewals: only reads are counted). latchkey: \`latchkey --poll-interval ${POLL} --log-level warn -- sleep infinity\``,
        `with S000…S009=vault://secret/data/bench/sNNN#v. The tree's commit when the soak started: ${head}.`,
        ec.bin
          ? `envconsul (${ec.version}; ${ec.note}): \`envconsul -config FILE sleep infinity\`, the same secrets, \`default_lease_duration = "${POLL}"\` (it re-reads a KV secret at ~90% of that).`
          : `envconsul: ${ec.note}.`,
        `Memory of the supervisor process itself (not the app) from /proc/PID/smaps_rollup every ${sampleS} s for ${minutes} minutes; MB are MiB;`,
        "CPU is user+system seconds since it started; requests are cumulative, counted from OpenBao's audit log by each client's token.",
        "",
        table(["minute", ...names.flatMap((n) => [`${n} anonymous`, `${n} RSS`, `${n} CPU s`, `${n} requests`])], rows),
        "",
        `Request rate over the soak: ${subjects.map((s) => `${s.name} ${fmt(perMin(s), 1)}/min (${errors.get(s.name)} answered with an error)`).join(", ")}.`,
        "",
        verdict(last.anon <= TARGET_MB, `latchkey's anonymous memory after ${fmt(last.min, 0)} minutes: ${fmt(last.anon, 2)} MB (peak from minute ${FLAT_FROM_MIN}: ${fmt(peak, 2)} MB; target ≤ ${TARGET_MB} MB)`),
        "",
        verdict(Math.abs(rise) <= FLAT_MB, `flat from minute ${FLAT_FROM_MIN}: the least-squares line through minutes ${FLAT_FROM_MIN}–${fmt(last.min, 0)} moves ${fmt(rise, 2)} MB (${fmt(tenth.anon, 2)} MB at minute ${fmt(tenth.min, 0)}, ${fmt(last.anon, 2)} MB at the end; target |Δ| ≤ ${FLAT_MB} MB)`),
      ].join("\n");
    } finally {
      for (const s of subjects) await s.sup.stop();
      await bao.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
