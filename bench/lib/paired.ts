/**
 * Paired, interleaved timing of two commands: A and B run back to back (alternating which
 * goes first), and each pair gives one ratio A/B. Load from other processes that drifts over
 * seconds hits both halves of a pair alike, so the median of the pair ratios holds up on a
 * busy shared machine where separate medians (hyperfine runs one command after the other)
 * do not. Times include Node's own spawnSync overhead, the same for both sides.
 */
import { spawnSync } from "node:child_process";
import { median, percentile } from "./stats.ts";

function once(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status} signal ${r.signal}`);
  return ms;
}

export interface Paired {
  ratios: number[];
  median: number;
  p25: number;
  p75: number;
}

export function paired(a: string[], b: string[], pairs: number, warmup = 5): Paired {
  for (let i = 0; i < warmup; i++) {
    once(a);
    once(b);
  }
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    let ta: number, tb: number;
    if (i % 2) {
      ta = once(a);
      tb = once(b);
    } else {
      tb = once(b);
      ta = once(a);
    }
    ratios.push(ta / tb);
  }
  return { ratios, median: median(ratios), p25: percentile(ratios, 25), p75: percentile(ratios, 75) };
}
