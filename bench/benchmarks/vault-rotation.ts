/**
 * Rotation latency after a KV v2 write, against a real OpenBao, with a 2 s poll: from the write
 * (process.hrtime just before the API call) until the restarted app prints its start time
 * (bench/fixtures/rotapp.c, CLOCK_MONOTONIC, the same clock). Side by side, each on a secret of
 * its own, all written in the same instant each round:
 *  - latchkey with its defaults but `--poll-interval 2s` (debounce 1 s),
 *  - latchkey with `--poll-interval 2s --debounce 100ms`,
 *  - envconsul with `default_lease_duration = "2s"` (it re-reads a KV secret at ~90% of it).
 * Rounds are spaced by a random 0.5-2.5 s so that a write lands at every phase of the polls.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lines } from "../lib/lines.ts";
import { compileC } from "../lib/native.ts";
import { alive, sleep } from "../lib/proc.ts";
import { fmt, mean, median, percentile, table } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";
import { clientToken, envconsul, envconsulConfig, OPENBAO_VERSION, secretPath, startBao } from "../providers/vault-openbao.ts";

const POLL = "2s";

interface Subject {
  name: string;
  secret: number;
  proc: ChildProcess;
  lines: Lines;
  ms: number[];
  lost: number;
}

export const benchmark: Benchmark = {
  name: "vault-rotation",
  title: "Vault: rotation latency after a KV write (OpenBao, 2 s poll, vs envconsul)",
  order: 47,
  async run(ctx: Context): Promise<string> {
    const n = Number(process.env.BENCH_ROTATIONS ?? (ctx.quick ? 4 : 30));
    const ec = envconsul(ctx.log);
    ctx.log(ec.note);
    const app = compileC("rotapp");
    const bao = await startBao();
    const tmp = mkdtempSync(join(tmpdir(), "lk-bench-vrot-"));
    const subjects: Subject[] = [];
    const write = (i: number, tag: string) => bao.kvPut(secretPath(i), { v: `value-${i}-${tag}` });
    try {
      const specs: { name: string; argv: string[]; env: Record<string, string> }[] = [];
      const ref = (i: number) => `vault://secret/data/${secretPath(i)}#v`;
      for (const [i, extra] of [[0, []], [1, ["--debounce", "100ms"]]] as [number, string[]][]) {
        await write(i, "0");
        const t = await clientToken(bao);
        specs.push({
          name: `latchkey --poll-interval ${POLL}${extra.length ? " " + extra.join(" ") : ""}`,
          argv: [ctx.latchkey, "--poll-interval", POLL, ...extra, "--log-level", "warn", "--", app],
          env: { PATH: "/usr/bin:/bin", VAULT_ADDR: bao.url, VAULT_TOKEN: t.token, S: ref(i) },
        });
      }
      if (ec.bin) {
        await write(2, "0");
        const t = await clientToken(bao);
        const cfg = envconsulConfig(join(tmp, "ec"), bao.url, t.token, [2], POLL);
        specs.push({ name: `envconsul (default_lease_duration ${POLL})`, argv: [ec.bin, "-config", cfg, "-log-level", "warn", app], env: { PATH: "/usr/bin:/bin" } });
      }
      for (const [k, s] of specs.entries()) {
        const proc = spawn(s.argv[0]!, s.argv.slice(1), { env: s.env, stdio: ["ignore", "pipe", "inherit"] });
        const lines = new Lines(proc.stdout!);
        const first = await lines.next(30_000);
        if (!first?.startsWith("S ")) throw new Error(`${s.name}: the app did not start (got ${first})`);
        subjects.push({ name: s.name, secret: k, proc, lines, ms: [], lost: 0 });
      }
      // Let the first polls settle (latchkey looks once right after the app starts).
      await sleep(3000);
      for (let r = 1; r <= n; r++) {
        await sleep(500 + Math.random() * 2000);
        const t0 = process.hrtime.bigint();
        await Promise.all(subjects.map((s) => write(s.secret, String(r))));
        await Promise.all(subjects.map(async (s) => {
          const l = await s.lines.next(20_000);
          if (!l?.startsWith("S ")) {
            s.lost++;
            ctx.log(`rotation ${r}: ${s.name}: no restart (got ${l})`);
            return;
          }
          s.ms.push(Number(BigInt(l.split(" ")[2]!) - t0) / 1e6);
        }));
        ctx.log(`rotation ${r}/${n}: ${subjects.map((s) => `${s.name} ${fmt(s.ms[s.ms.length - 1] ?? NaN, 0)} ms`).join(" · ")}`);
      }
    } finally {
      for (const s of subjects) {
        s.proc.kill("SIGTERM");
        for (let i = 0; i < 100 && s.proc.pid && alive(s.proc.pid); i++) await sleep(50);
        if (s.proc.pid && alive(s.proc.pid)) s.proc.kill("SIGKILL");
      }
      await bao.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
    const rows = subjects.map((s) => [
      s.name, String(s.ms.length), String(s.lost), fmt(median(s.ms), 0), fmt(mean(s.ms), 0), fmt(percentile(s.ms, 90), 0), fmt(Math.min(...s.ms), 0), fmt(Math.max(...s.ms), 0),
    ]);
    return [
      `OpenBao ${OPENBAO_VERSION} (\`bao server -dev\`) on 127.0.0.1; each tool supervises bench/fixtures/rotapp.c on a KV v2 secret of its own, all secrets`,
      `written in the same instant, ${n} rounds spaced by a random 0.5-2.5 s (a write lands at every phase of the polls). Latency: from just before the`,
      "KV write request until the restarted app's first instruction (CLOCK_MONOTONIC), in ms. The restart action is each tool's default",
      "(SIGTERM to the app, wait, start it again with the new environment).",
      ec.bin ? `envconsul: ${ec.version}; ${ec.note}; \`envconsul -config FILE rotapp\`, \`kill_signal = "SIGTERM"\`, \`default_lease_duration = "${POLL}"\`.` : `envconsul: ${ec.note}.`,
      "",
      table(["", "rotations", "lost", "median", "mean", "p90", "min", "max"], rows),
      "",
      `With a ${POLL} poll (±10% jitter in latchkey; ~1.8 s ±5% in envconsul) a write waits half a poll on average before it is seen; latchkey then waits`,
      "its debounce (default 1 s: hints are collected until that long passes without a new one) before it reloads and restarts.",
    ].join("\n");
  },
};
