/**
 * Startup: how long `latchkey -- /bin/true` takes from exec to exit, against a hello-world
 * single executable built from the same runtime with the same options (the floor any Node
 * single executable pays), with the classic C init tools alongside for reference.
 */
import { buildReferenceSeas } from "../lib/sea.ts";
import { hyperfine, type Command, type Timing } from "../lib/hyperfine.ts";
import { paired } from "../lib/paired.ts";
import { fmt, median, mean, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fixtures } from "../lib/paths.ts";
import { latchkeyExecArgv } from "../lib/sea.ts";

/** Node built-in modules a script loads beyond the runtime's own start (public names only). */
function builtinsLoaded(node: string, args: string[]): string[] {
  const r = spawnSync(node, ["-r", join(fixtures, "builtins-preload.cjs"), ...args], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  const line = r.stderr.split("\n").find((l) => l.startsWith("BUILTINS ")) ?? "BUILTINS";
  return line.slice(9).split(" ").filter((m) => m && !m.startsWith("internal/"));
}

const TARGET = 1.15;

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export const benchmark: Benchmark = {
  name: "startup",
  title: "Startup",
  order: 10,
  async run(ctx: Context): Promise<string> {
    // Many short rounds rather than a few long ones: on a shared machine the load drifts
    // within a minute, and short rounds spread that drift evenly over every command.
    const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 1 : 8));
    const runs = Number(process.env.BENCH_RUNS ?? (ctx.quick ? 10 : 12));
    const warmup = 3;
    ctx.log("building the reference single executables (hello, hello-spawn)");
    const sea = buildReferenceSeas(ctx.node, ["hello", "hello-spawn"]);
    const lk = ctx.latchkey;
    const commands: Command[] = [
      { name: "/bin/true", line: "/bin/true" },
      { name: "tini", line: "tini -s -- /bin/true" },
      { name: "dumb-init", line: "dumb-init /bin/true" },
      { name: "gosu", line: "gosu nobody /bin/true" },
      { name: "node -e 0", line: `${ctx.node} -e 0` },
      { name: "hello SEA", line: sea.hello! },
      { name: "hello-spawn SEA", line: `${sea["hello-spawn"]} /bin/true` },
      { name: "latchkey version", line: `${lk} version` },
      { name: "latchkey", line: `${lk} -- /bin/true` },
      { name: "latchkey --exec", line: `${lk} --exec -- /bin/true` },
      { name: "latchkey --user", line: `${lk} --user nobody -- /bin/true` },
      { name: "latchkey --exec --user", line: `${lk} --exec --user nobody -- /bin/true` },
    ];
    const t = hyperfine(commands, { rounds, runs, warmup, log: ctx.log });
    const pairs = Number(process.env.BENCH_PAIRS ?? (ctx.quick ? 20 : 200));
    ctx.log(`paired runs: ${pairs} × (latchkey, hello), (latchkey --exec, hello) and (latchkey --exec, latchkey)`);
    const pairedRun = paired([lk, "--", "/bin/true"], [sea.hello!], pairs);
    const pairedExec = paired([lk, "--exec", "--", "/bin/true"], [sea.hello!], pairs);
    // Issue 15, target 4: --exec never slower than supervise mode. The separate medians above
    // drift apart by more than the difference; paired on one build they do not.
    const pairedModes = paired([lk, "--exec", "--", "/bin/true"], [lk, "--", "/bin/true"], pairs);
    // BENCH_BASELINE=an earlier build: this build against it, paired (a change's own cost,
    // free of the hello floor's drift between runs).
    const baseline = process.env.BENCH_BASELINE;
    if (baseline) ctx.log(`paired runs: ${pairs} × (latchkey, baseline ${baseline}) in both modes`);
    const vsBaseline = baseline ? [
      ["`latchkey -- /bin/true` / baseline build", paired([lk, "--", "/bin/true"], [baseline, "--", "/bin/true"], pairs)],
      ["`latchkey --exec -- /bin/true` / baseline build", paired([lk, "--exec", "--", "/bin/true"], [baseline, "--exec", "--", "/bin/true"], pairs)],
    ] as const : [];
    const by = (name: string) => t.find((x) => x.name === name)!;
    const med = (name: string) => median(by(name).times) * 1e3;
    const cpu = (name: string) => (by(name).user + by(name).system) * 1e3;
    const hello = med("hello SEA");
    const tini = med("tini");

    const shown: Record<string, string> = {
      "/bin/true": "/bin/true",
      tini: "tini -s -- /bin/true",
      "dumb-init": "dumb-init /bin/true",
      gosu: "gosu nobody /bin/true",
      "node -e 0": "node -e 0 (pinned runtime)",
      "hello SEA": "hello SEA (prints hello)",
      "hello-spawn SEA": "hello-spawn SEA /bin/true (spawn, wait)",
      "latchkey version": "latchkey version",
      latchkey: "**latchkey -- /bin/true**",
      "latchkey --exec": "latchkey --exec -- /bin/true",
      "latchkey --user": "latchkey --user nobody -- /bin/true",
      "latchkey --exec --user": "latchkey --exec --user nobody -- /bin/true",
    };
    const rows = t.map((x: Timing) => [
      shown[x.name] ?? x.name,
      fmt(median(x.times) * 1e3),
      fmt(mean(x.times) * 1e3),
      x.roundMedians.map((m) => fmt(m * 1e3, 1)).join(" / "),
      fmt((x.user + x.system) * 1e3, 1),
      fmt((median(x.times) * 1e3) / hello),
      fmt(cpu(x.name) / cpu("hello SEA")),
      fmt((median(x.times) * 1e3) / tini, 1),
    ]);

    const ratio = med("latchkey") / hello;
    const perRound = by("latchkey").roundMedians.map((m, i) => m / by("hello SEA").roundMedians[i]!);
    const cpuRatio = cpu("latchkey") / cpu("hello SEA");
    const flags = latchkeyExecArgv().filter((a) => a !== "--disable-sigusr1");
    const reference = new Set(builtinsLoaded(ctx.node, [join(fixtures, "hello-spawn.cjs"), "/bin/true"]));
    const extra = builtinsLoaded(ctx.node, [...flags, ctx.bundle, "--", "/bin/true"]).filter((m) => !reference.has(m));
    const bundleKb = statSync(ctx.bundle).size / 1024;
    const step = (what: string, a: string, b: string) =>
      [what, fmt(med(a) - (b ? med(b) : 0)), fmt(cpu(a) - (b ? cpu(b) : 0), 1)];

    return [
      `${rounds} rounds × (${warmup} warmup + ${runs} runs) of every command with \`hyperfine -N\` (no shell), samples pooled over the rounds.`,
      "The reference single executables are built at bench time from the pinned runtime with build/build.ts's SEA options",
      "(stripped base binary, code cache, `execArgvExtension: \"none\"`, the same `execArgv`). tini runs with `-s` (child",
      "subreaper), as latchkey registers itself as one when it is not PID 1. Times in ms; \"× hello\" and \"× tini\" are",
      "ratios of medians.",
      "",
      table(["command", "median", "mean", "median per round", "user+sys", "× hello", "CPU × hello", "× tini"], rows),
      "",
      `Paired and interleaved (${pairs} back-to-back pairs, the figure least moved by other processes' load; median of the`,
      "pair ratios, interquartile range in brackets):",
      "",
      table(["pair", "ratio", "p25–p75"], [
        ["`latchkey -- /bin/true` / hello SEA", `**${fmt(pairedRun.median)}**`, `${fmt(pairedRun.p25)}–${fmt(pairedRun.p75)}`],
        ["`latchkey --exec -- /bin/true` / hello SEA", fmt(pairedExec.median), `${fmt(pairedExec.p25)}–${fmt(pairedExec.p75)}`],
        ["`latchkey --exec -- /bin/true` / `latchkey -- /bin/true`", fmt(pairedModes.median), `${fmt(pairedModes.p25)}–${fmt(pairedModes.p75)}`],
        ...vsBaseline.map(([what, p]) => [what, fmt(p.median), `${fmt(p.p25)}–${fmt(p.p75)}`]),
      ]),
      ...(baseline ? ["", `Baseline build (\`BENCH_BASELINE\`): ${baseline}, sha256 ${sha256(baseline).slice(0, 12)}.`] : []),
      "",
      verdict(pairedRun.median <= TARGET, `\`latchkey -- /bin/true\` / hello SEA = **${fmt(pairedRun.median)}** paired (target ≤ ${TARGET}); ${fmt(ratio)} from the separate medians above (per round ${perRound.map((r) => fmt(r)).join(", ")}); ${fmt(cpuRatio)} in CPU time (user+sys)`),
      "",
      verdict(pairedModes.median <= 1, `\`latchkey --exec\` / supervise mode = **${fmt(pairedModes.median)}** paired, same build (target ≤ 1: --exec never slower)`),
      "",
      "Where the time goes (differences of medians; CPU is user+sys, less sensitive to other processes' load):",
      "",
      table(["step", "wall ms", "CPU ms"], [
        step("runtime start (hello SEA)", "hello SEA", ""),
        step("latchkey's bundle loaded, version printed (`latchkey version` − hello)", "latchkey version", "hello SEA"),
        step("one `child_process.spawn` and wait (hello-spawn − hello)", "hello-spawn SEA", "hello SEA"),
        step("latchkey beyond a bare spawn-and-wait (latchkey − hello-spawn)", "latchkey", "hello-spawn SEA"),
        step("exec mode (`--exec` − hello)", "latchkey --exec", "hello SEA"),
        step("the exec shim: one more runtime start (`--user nobody` − plain)", "latchkey --user", "latchkey"),
      ]),
      "",
      `The bundle is ${fmt(bundleKb, 0)} KB (dist/latchkey.cjs; the executable runs it without the yaml parser, a side bundle); the modules it imports statically run`,
      `their top-level code at every start. Node built-ins that \`latchkey -- /bin/true\` loads beyond hello-spawn's (run as`,
      `\`node ${flags.join(" ")} latchkey.cjs\`): ${extra.length ? extra.map((m) => `\`${m}\``).join(", ") : "none"}.`,
    ].join("\n");
  },
};
