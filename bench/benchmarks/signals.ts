/**
 * Signal forwarding latency: SIGUSR1 (then SIGUSR2) sent to the supervisor, timed until the
 * app receives it. The app is bench/fixtures/sigrecv.c: it takes SIGUSR1 with sigwaitinfo() and prints a
 * CLOCK_MONOTONIC timestamp on stdout, which the supervisor passes through. The send time is
 * process.hrtime (libuv reads the same clock). One signal in flight at a time: two pending
 * standard signals of one kind merge into one, and each needs its own measure.
 */
import { spawn } from "node:child_process";
import { compileC } from "../lib/native.ts";
import { Lines } from "../lib/lines.ts";
import { sleep } from "../lib/proc.ts";
import { fmt, median, percentile, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET_P99_MS = 5;
const TIMEOUT_MS = 2000;
/** After this many signals in a row time out, the path does not forward that signal: stop. */
const GIVE_UP_AFTER = 5;
const SIGNALS = ["SIGUSR1", "SIGUSR2"] as const;
const SIGNO: Record<(typeof SIGNALS)[number], number> = { SIGUSR1: 10, SIGUSR2: 12 };

interface Subject {
  name: string;
  /** Command before the receiver; empty: signal the receiver directly (the floor). */
  prefix: string[];
}

interface Run {
  latencies: number[]; // ms, in send order
  lost: number;
  /** Stopped early: GIVE_UP_AFTER signals in a row never arrived. */
  gaveUp: boolean;
}

async function measure(s: Subject, receiver: string, count: number, signal: (typeof SIGNALS)[number]): Promise<Run> {
  const argv = [...s.prefix, receiver];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => proc.on("exit", () => r()));
  const lines = new Lines(proc.stdout!);
  let receiverPid = 0;
  try {
    const ready = await lines.next(10_000);
    const m = /^READY (\d+)$/.exec(ready ?? "");
    if (!m) throw new Error(`${s.name}: the receiver did not start (got ${JSON.stringify(ready)})`);
    receiverPid = Number(m[1]);
    const target = s.prefix.length ? proc.pid! : receiverPid;
    const latencies: number[] = [];
    let lost = 0;
    let inRow = 0;
    for (let i = 0; i < count; i++) {
      const sent = process.hrtime.bigint();
      process.kill(target, signal);
      const line = await lines.next(TIMEOUT_MS);
      const r = /^R (\d+) (\d+)$/.exec(line ?? "");
      if (!r || Number(r[1]) !== SIGNO[signal]) {
        lost++;
        if (++inRow >= GIVE_UP_AFTER) return { latencies, lost, gaveUp: true };
        continue;
      }
      inRow = 0;
      const ms = Number(BigInt(r[2]!) - sent) / 1e6;
      if (ms < 0) throw new Error(`${s.name}: negative latency: the receiver's clock is not process.hrtime's`);
      latencies.push(ms);
      await sleep(1); // let every process go back to idle: each signal is measured from rest
    }
    return { latencies, lost, gaveUp: false };
  } finally {
    proc.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!stopped) {
      proc.kill("SIGKILL");
      if (receiverPid) {
        try {
          process.kill(receiverPid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }
}

export const benchmark: Benchmark = {
  name: "signals",
  title: "Signal forwarding latency",
  order: 30,
  async run(ctx: Context): Promise<string> {
    const count = Number(process.env.BENCH_SIGNALS ?? (ctx.quick ? 100 : 1000));
    const receiver = compileC("sigrecv");
    const subjects: Subject[] = [
      { name: "**latchkey -- sigrecv**", prefix: [ctx.latchkey, "--"] },
      { name: "tini -s -- sigrecv", prefix: ["tini", "-s", "--"] },
      { name: "dumb-init sigrecv", prefix: ["dumb-init"] },
      { name: "sigrecv alone (signalled directly: the floor)", prefix: [] },
    ];
    const results = new Map<string, Run>();
    const key = (s: Subject, sig: string) => `${s.name} ${sig}`;
    for (const sig of SIGNALS) {
      for (const s of subjects) {
        ctx.log(`signals: ${count} × ${sig} through ${s.name.replace(/\*/g, "")}`);
        results.set(key(s, sig), await measure(s, receiver, count, sig));
      }
    }
    const rows = SIGNALS.flatMap((sig) => subjects.map((s) => {
      const r = results.get(key(s, sig))!;
      const l = r.latencies;
      return [
        s.name,
        sig,
        String(l.length),
        r.gaveUp ? `${r.lost} (**not forwarded**: gave up after ${GIVE_UP_AFTER} in a row)` : String(r.lost),
        fmt(median(l), 3),
        fmt(percentile(l, 90), 3),
        fmt(percentile(l, 99), 3),
        fmt(Math.max(...l), 3),
        fmt(l[0] ?? NaN, 3),
      ];
    }));
    const verdicts = SIGNALS.map((sig) => {
      const lk = results.get(key(subjects[0]!, sig))!;
      const tini = results.get(key(subjects[1]!, sig))!;
      const p99 = percentile(lk.latencies, 99);
      const ok = p99 <= TARGET_P99_MS && lk.lost === 0;
      return verdict(ok, `${sig}: latchkey p99 ${fmt(p99, 3)} ms, ${lk.lost} lost of ${count} (target p99 ≤ ${TARGET_P99_MS} ms, none lost); p50 ${fmt(median(lk.latencies), 3)} ms = ${fmt(median(lk.latencies) / median(tini.latencies), 1)}× tini's`);
    });
    return [
      `${count} of each signal sent one at a time to the supervisor (kill(2) from the bench), each timed until the app's`,
      "`sigwaitinfo()` returns, both ends on CLOCK_MONOTONIC; 1 ms pause between signals. Latencies in ms.",
      "\"first\" is the first signal of the run (cold code paths: a `docker stop` SIGTERM is usually a first signal).",
      "",
      table(["path", "signal", "received", "lost", "p50", "p90", "p99", "max", "first"], rows),
      "",
      ...verdicts.flatMap((v) => [v, ""]),
    ].join("\n");
  },
};
