/**
 * Benchmark runner: `node bench/main.ts [NAME...]` (through bench/run). Benchmarks are the
 * files in bench/benchmarks/, each exporting `benchmark`; each writes its own section of
 * bench/RESULTS.md, headed by the exact command, the machine and its load.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadNow, loadNote, machineFacts } from "./lib/machine.ts";
import { out, root } from "./lib/paths.ts";
import { flushFile } from "./lib/files.ts";
import { ensurePlaceholder, writeSection } from "./lib/results.ts";
import type { Benchmark, Context } from "./lib/types.ts";

const benchmarksDir = join(import.meta.dirname, "benchmarks");

/** Sections later issues fill in; listed here so RESULTS.md has a place for each from now on. */
const PLACEHOLDERS: [name: string, title: string, owner: string, order: number][] = [
  ["startup-secrets", "Startup with secrets", "issue 3: file secrets and the app's environment", 15],
  ["providers", "Secret providers (AWS Secrets Manager, Vault)", "issue 4: external secret managers", 45],
  ["rotation", "Rotation", "issue 5: rotation", 50],
  ["health", "Health probe", "issue 6: startup gate and health probes", 60],
  ["docker", "Docker", "issue 7: container deliverables", 70],
];

/** Benchmark names are the file names in bench/benchmarks/ (NAME.ts exports `benchmark`). */
function names(): string[] {
  return readdirSync(benchmarksDir).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort();
}

/** Import one benchmark; a broken file fails only its own benchmark, not the whole run. */
async function load(name: string): Promise<Benchmark> {
  const mod = (await import(pathToFileURL(join(benchmarksDir, `${name}.ts`)).href)) as { benchmark?: Benchmark };
  if (!mod.benchmark) throw new Error(`bench/benchmarks/${name}.ts exports no \`benchmark\``);
  if (mod.benchmark.name !== name) throw new Error(`bench/benchmarks/${name}.ts names its benchmark '${mod.benchmark.name}': the file name is the benchmark's name`);
  return mod.benchmark;
}

async function loadAll(chosen: string[], log: (m: string) => void): Promise<{ ok: Benchmark[]; broken: string[] }> {
  const ok: Benchmark[] = [];
  const broken: string[] = [];
  for (const n of chosen) {
    try {
      ok.push(await load(n));
    } catch (e) {
      broken.push(n);
      log(`${n}: cannot load: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return { ok: ok.sort((a, b) => a.order - b.order), broken };
}

/** Others rebuild dist/ while benchmarks run: measure a copy taken now. */
function snapshotLatchkey(): { path: string; sha: string; bundle: string } {
  const dist = join(root, "dist", "latchkey");
  if (!existsSync(dist)) throw new Error("dist/latchkey is missing: run bench/run (it builds it) or scripts/build");
  mkdirSync(out, { recursive: true });
  const path = join(out, "latchkey");
  // Written, not copy_file_range'd: the page cache then holds it as it holds the reference
  // executables bench/lib/sea.ts writes, and mapped clean pages (RSS) compare like with like.
  const bytes = readFileSync(dist);
  writeFileSync(path, bytes, { mode: 0o755 });
  chmodSync(path, 0o755);
  flushFile(path);
  const bundle = join(out, "latchkey.cjs");
  writeFileSync(bundle, readFileSync(join(root, "dist", "latchkey.cjs")));
  return { path, sha: createHash("sha256").update(bytes).digest("hex"), bundle };
}

function commandLine(names: string[]): string {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith("BENCH_"))
    .map(([k, v]) => `${k}=${v} `)
    .join("");
  return `${env}bench/run${names.length ? " " + names.join(" ") : ""}`;
}

function utc(d: Date): string {
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

async function main(argv: string[]): Promise<number> {
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  const all = names();
  if (argv.includes("--list")) {
    const { ok, broken } = await loadAll(all, log);
    for (const b of ok) console.log(`${b.name.padEnd(16)} ${b.title}`);
    for (const n of broken) console.log(`${n.padEnd(16)} (cannot load)`);
    return broken.length ? 1 : 0;
  }
  const unknown = argv.filter((n) => !all.includes(n));
  if (unknown.length) {
    console.error(`bench: unknown benchmark ${unknown.join(", ")}; known: ${all.join(", ")}`);
    return 2;
  }
  const { ok: chosen, broken } = await loadAll(argv.length ? argv : all, log);
  const subject = snapshotLatchkey();
  // The commit is named now, with the snapshot: a long run ends after the tree moved on.
  const machine = machineFacts(subject.sha);
  const ctx: Context = {
    latchkey: subject.path,
    latchkeySha: subject.sha,
    bundle: subject.bundle,
    node: process.execPath,
    quick: process.env.BENCH_QUICK === "1",
    log,
  };
  // Section order in RESULTS.md: every benchmark's `order`, also of those not run this time.
  const orders = new Map<string, number>(PLACEHOLDERS.map(([n, , , o]) => [n, o]));
  for (const b of (await loadAll(all, () => {})).ok) orders.set(b.name, b.order);
  const orderOf = (n: string) => orders.get(n) ?? 1000;
  for (const [name, title, owner] of PLACEHOLDERS) ensurePlaceholder(name, title, owner, orderOf);

  let failed = broken.length;
  for (const b of chosen) {
    ctx.log(`── ${b.name}: ${b.title}`);
    const started = new Date();
    const loadStart = loadNow();
    let body: string;
    try {
      body = await b.run(ctx);
    } catch (e) {
      failed++;
      ctx.log(`${b.name} failed: ${(e as Error).stack ?? String(e)}`);
      continue; // keep the section's previous results rather than writing a broken one
    }
    const secs = Math.round((Date.now() - started.getTime()) / 1000);
    const head = [
      `## ${b.title}`,
      "",
      `Command: \`${commandLine(argv)}\` · run ${utc(started)}, took ${secs} s${ctx.quick ? " · **BENCH_QUICK: few samples, a harness check, not a measurement**" : ""}`,
      "",
      `Machine: ${machine}`,
      "",
      `Load: ${loadNote({ start: loadStart, end: loadNow() })}`,
      "",
    ].join("\n");
    writeSection(b.name, `${head}\n${body}\n`, orderOf);
    ctx.log(`${b.name}: written to bench/RESULTS.md`);
  }
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} finally {
  rmSync(out, { recursive: true, force: true });
}
