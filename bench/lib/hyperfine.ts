/**
 * Startup timing with hyperfine, in rounds: each round runs every command (warmup, then N
 * runs) in one hyperfine invocation, and the samples of all rounds are pooled. On a shared
 * machine, load drifts; rounds spread that drift over every command instead of letting it
 * land on whichever ran last.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { out } from "./paths.ts";

export interface Command {
  name: string;
  /** Run without a shell (hyperfine -N), split on spaces: keep paths free of spaces. */
  line: string;
}

export interface Timing {
  name: string;
  line: string;
  /** Seconds, every sample of every round. */
  times: number[];
  /** Median per round, seconds: shows how stable the figure is across rounds. */
  roundMedians: number[];
  user: number;
  system: number;
}

interface HyperfineResult {
  command: string;
  times: number[];
  median: number;
  user: number;
  system: number;
}

export function hyperfine(commands: Command[], opts: { rounds: number; runs: number; warmup: number; log: (m: string) => void }): Timing[] {
  const acc = new Map<string, Timing>(commands.map((c) => [c.name, { name: c.name, line: c.line, times: [], roundMedians: [], user: 0, system: 0 }]));
  for (let r = 1; r <= opts.rounds; r++) {
    opts.log(`hyperfine round ${r}/${opts.rounds}: ${commands.length} commands × ${opts.runs} runs`);
    const json = join(out, `hyperfine-${process.pid}.json`);
    const args = ["-N", "--style", "none", "--warmup", String(opts.warmup), "--runs", String(opts.runs), "--export-json", json];
    for (const c of commands) args.push("--command-name", c.name);
    args.push(...commands.map((c) => c.line));
    execFileSync("hyperfine", args, { stdio: ["ignore", "ignore", "inherit"] });
    const res = (JSON.parse(readFileSync(json, "utf8")) as { results: HyperfineResult[] }).results;
    rmSync(json);
    for (const x of res) {
      const t = acc.get(x.command)!;
      t.times.push(...x.times);
      t.roundMedians.push(x.median);
      t.user += x.user / opts.rounds;
      t.system += x.system / opts.rounds;
    }
  }
  return commands.map((c) => acc.get(c.name)!);
}
