/**
 * `latchkey health` as a HEALTHCHECK probe, side by side with `curl -fsS` and
 * `wget -q --spider` against the same local server: time per probe (hyperfine) and peak RSS
 * (/usr/bin/time -v). The target compares latchkey with the bare runtime's own start
 * (`node -e 0` and a hello-world single executable built like latchkey): the probe runs
 * every few seconds in every container, so it must cost about one runtime start, no more.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { buildReferenceSeas, latchkeyExecArgv } from "../lib/sea.ts";
import { out, root } from "../lib/paths.ts";
import { hyperfine, type Command } from "../lib/hyperfine.ts";
import { paired, type Paired } from "../lib/paired.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET = 1.2;

/** The server runs in its own process: hyperfine blocks this one. */
const SERVER = `
const http = require("http"), net = require("net");
const s = http.createServer((req, res) => { res.setHeader("content-type", "application/json"); res.end('{"status":"UP"}'); });
s.keepAliveTimeout = 100;
s.listen(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));
`;

export async function startServer(node: string): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(node, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    proc.once("exit", (c) => reject(new Error(`bench server exited ${c}`)));
  });
  return { port, proc };
}

/**
 * Single executables built like latchkey from a small entry: "health-only" holds only the
 * health fast path (what `latchkey health` runs), so the difference to latchkey shows what
 * the rest of the bundle costs every probe (reading and deserializing a larger script);
 * "raw-socket" is the least any Node probe can do (connect, write a GET, read the status
 * line, exit), the floor for a probe written in JavaScript.
 */
async function entrySea(node: string, name: string, source: string): Promise<string> {
  const entry = join(out, `${name}-entry.ts`);
  const bundle = join(out, `${name}.cjs`);
  writeFileSync(entry, source);
  await build({ entryPoints: [entry], outfile: bundle, bundle: true, platform: "node", format: "cjs", target: "node26", minify: true, logLevel: "warning" });
  const base = join(out, `.node-base-${name}`);
  copyFileSync(node, base);
  execFileSync("strip", ["--strip-all", base]);
  const output = join(out, name);
  const config = join(out, `${name}.sea.json`);
  writeFileSync(config, JSON.stringify({
    main: bundle, output, executable: base, disableExperimentalSEAWarning: true, useCodeCache: true,
    useSnapshot: false, execArgvExtension: "none", execArgv: latchkeyExecArgv(),
  }));
  execFileSync(node, ["--build-sea", config], { stdio: ["ignore", "ignore", "inherit"] });
  chmodSync(output, 0o755);
  for (const f of [entry, config, base]) rmSync(f);
  return output;
}

const HEALTH_ONLY = `import { runHealthFast } from ${JSON.stringify(join(root, "src/health/entry.ts"))};
runHealthFast(process.argv.slice(2), () => process.exit(70));
`;
const RAW_SOCKET = `import { connect } from "node:net";
const port = Number(process.argv[2]);
const s = connect({ host: "127.0.0.1", port }, () => s.write("GET /health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n"));
s.once("data", (d) => process.exit(/^HTTP\\/1\\.1 2/.test(String(d)) ? 0 : 1));
`;

/** Peak RSS in MB of one run, from GNU time's "Maximum resident set size (kbytes)". */
function peakRss(line: string): number {
  const argv = line.split(" ");
  const r = spawnSync("/usr/bin/time", ["-v", ...argv], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no RSS from /usr/bin/time for ${line}: ${r.stderr.slice(-300)}`);
  return Number(m[1]) / 1024;
}

export const benchmark: Benchmark = {
  name: "health",
  title: "Health probe",
  order: 60,
  async run(ctx: Context): Promise<string> {
    const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 1 : 3));
    const runs = Number(process.env.BENCH_RUNS ?? (ctx.quick ? 10 : 40));
    const rssRuns = ctx.quick ? 3 : 15;
    const warmup = 5;
    ctx.log("building the reference single executable (hello)");
    const sea = buildReferenceSeas(ctx.node, ["hello"]);
    const healthOnly = await entrySea(ctx.node, "health-only", HEALTH_ONLY);
    const rawSocket = await entrySea(ctx.node, "raw-socket", RAW_SOCKET);
    const { port, proc } = await startServer(ctx.node);
    try {
      const url = `http://127.0.0.1:${port}/health`;
      const lk = ctx.latchkey;
      // Sanity: every probe must succeed against the server, or the timings mean nothing.
      for (const argv of [[lk, "health", url], [healthOnly, "health", url], [rawSocket, String(port)], ["curl", "-fsS", "-o", "/dev/null", url], ["wget", "-q", "--spider", url]]) {
        execFileSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
      }
      const commands: Command[] = [
        { name: "node -e 0", line: `${ctx.node} -e 0` },
        { name: "hello SEA", line: sea.hello! },
        { name: "latchkey version", line: `${lk} version` },
        { name: "latchkey health http", line: `${lk} health ${url}` },
        { name: "latchkey health http body", line: `${lk} health ${url}#body=UP` },
        { name: "latchkey health tcp", line: `${lk} health tcp://127.0.0.1:${port}` },
        { name: "health-only SEA", line: `${healthOnly} health ${url}` },
        { name: "raw-socket SEA", line: `${rawSocket} ${port}` },
        { name: "curl -fsS", line: `curl -fsS -o /dev/null ${url}` },
        { name: "wget -q --spider", line: `wget -q --spider ${url}` },
      ];
      const t = hyperfine(commands, { rounds, runs, warmup, log: ctx.log });
      const med = (name: string) => median(t.find((x) => x.name === name)!.times) * 1e3;
      const pairs = ctx.quick ? 20 : 100;
      ctx.log(`paired runs: ${pairs} pairs each`);
      const probeArgv = [lk, "health", url];
      const pairedRows: Array<[string, Paired]> = [
        ["`latchkey health http://…` / hello SEA", paired(probeArgv, [sea.hello!], pairs)],
        ["`latchkey health http://…` / `node -e 0`", paired(probeArgv, [ctx.node, "-e", "0"], pairs)],
        ["health-only SEA / hello SEA", paired([healthOnly, "health", url], [sea.hello!], pairs)],
        ["raw-socket SEA / hello SEA", paired([rawSocket, String(port)], [sea.hello!], pairs)],
        ["`latchkey health http://…` / health-only SEA", paired(probeArgv, [healthOnly, "health", url], pairs)],
      ];
      ctx.log(`peak RSS: ${rssRuns} runs of each with /usr/bin/time -v`);
      const rss = new Map(commands.map((c) => [c.name, median(Array.from({ length: rssRuns }, () => peakRss(c.line)))]));

      const node = med("node -e 0");
      const hello = med("hello SEA");
      const probe = med("latchkey health http");
      const probeT = t.find((x) => x.name === "latchkey health http")!;
      const cpu = (probeT.user + probeT.system) * 1e3;
      const cpuOf = (name: string) => { const x = t.find((y) => y.name === name)!; return (x.user + x.system) * 1e3; };
      const shown: Record<string, string> = {
        "node -e 0": "node -e 0 (pinned runtime)",
        "hello SEA": "hello SEA (same build options as latchkey)",
        "latchkey version": "latchkey version",
        "latchkey health http": `**latchkey health http://…/health**`,
        "latchkey health http body": "latchkey health http://…/health#body=UP (node:http)",
        "latchkey health tcp": "latchkey health tcp://…",
        "health-only SEA": "health-only SEA health http://…/health (the same code, nothing else bundled)",
        "raw-socket SEA": "raw-socket SEA (connect, GET, read status line: the floor for a Node probe)",
        "curl -fsS": "curl -fsS -o /dev/null http://…/health",
        "wget -q --spider": "wget -q --spider http://…/health",
      };
      const rows = t.map((x) => [
        shown[x.name] ?? x.name,
        fmt(median(x.times) * 1e3),
        x.roundMedians.map((m) => fmt(m * 1e3, 1)).join(" / "),
        fmt((x.user + x.system) * 1e3, 1),
        fmt((median(x.times) * 1e3) / node),
        fmt((median(x.times) * 1e3) / hello),
        fmt(rss.get(x.name)!, 1),
      ]);
      return [
        `${rounds} rounds × (${warmup} warmup + ${runs} runs) of every command with \`hyperfine -N\`, samples pooled; all probes`,
        `hit the same local Node HTTP server (its own process) answering 200 with a small JSON body. Peak RSS: median of`,
        `${rssRuns} runs under \`/usr/bin/time -v\` (maximum resident set size). Times in ms, RSS in MB.`,
        "",
        table(["command", "median", "median per round", "user+sys", "× node -e 0", "× hello SEA", "peak RSS"], rows),
        "",
        `Paired, interleaved runs (${pairs} pairs; A and B back to back, alternating order; the median of the A/B ratios`,
        "holds up under load where the separate medians above do not):",
        "",
        table(["ratio", "median", "p25–p75"], pairedRows.map(([name, p]) => [name, `**${fmt(p.median)}**`, `${fmt(p.p25)}–${fmt(p.p75)}`])),
        "",
        verdict(pairedRows[0]![1].median <= TARGET, `\`latchkey health http://…\` / hello SEA = **${fmt(pairedRows[0]![1].median)}** paired (target ≤ ${TARGET}); ${fmt(probe / hello)} from the separate medians`),
        "",
        verdict(pairedRows[1]![1].median <= TARGET, `\`latchkey health http://…\` / \`node -e 0\` = **${fmt(pairedRows[1]![1].median)}** paired (target ≤ ${TARGET}); ${fmt(probe / node)} from the separate medians`),
        "",
        `CPU time (user+sys, steadier than wall time on a loaded machine): latchkey health http / node -e 0 = ${fmt(cpu / cpuOf("node -e 0"))},`,
        `/ hello SEA = ${fmt(cpu / cpuOf("hello SEA"))}.`,
        "",
        "Where the time goes (differences of medians, ms):",
        "",
        `- the probe itself over the runtime start (latchkey health http − hello SEA): ${fmt(probe - hello)}`,
        `- body matching through node:http instead of the status-line reader: ${fmt(med("latchkey health http body") - probe)}`,
        `- the rest of latchkey's bundle, loaded but not run (latchkey health − health-only SEA): ${fmt(probe - med("health-only SEA"))}`,
        `  wall, ${fmt(cpu - cpuOf("health-only SEA"), 1)} CPU; the probe code itself (health-only SEA − hello SEA): ${fmt(med("health-only SEA") - hello)}`,
        `- any Node probe (raw-socket SEA / hello SEA): ${fmt(med("raw-socket SEA") / hello)} wall, ${fmt(cpuOf("raw-socket SEA") / cpuOf("hello SEA"))} CPU —`,
        `  loading node:net and its streams is most of what a probe adds to the runtime start; latchkey health / raw-socket SEA:`,
        `  ${fmt(probe / med("raw-socket SEA"))} wall, ${fmt(cpu / cpuOf("raw-socket SEA"))} CPU.`,
        `- curl and wget are C programs with no runtime to start: latchkey takes ${fmt(probe / med("curl -fsS"), 1)}× curl's time per probe;`,
        `  its CPU time (user+sys ${fmt(cpu, 1)} ms) at a 10 s HEALTHCHECK interval is ${fmt((cpu / 10_000) * 100, 2)} % of one core.`,
      ].join("\n");
    } finally {
      proc.kill("SIGTERM");
    }
  },
};
