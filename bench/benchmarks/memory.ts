/**
 * Supervisor memory while the app idles: each supervisor runs `sleep 30`; once the child is
 * up and things settle, /proc/PID/smaps_rollup of the supervisor (not the child) is read.
 * Anonymous memory is what each extra container really pays; clean pages of the executable
 * are shared page cache.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { buildReferenceSeas } from "../lib/sea.ts";
import { alive, childrenOf, sleep, smapsRollup, waitFor } from "../lib/proc.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET_MB = 12;

interface Subject {
  name: string;
  argv: string[];
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Start the supervisor, wait for `sleep` to run under it, settle, read its memory, stop it. */
async function measure(s: Subject, settleMs: number): Promise<Record<string, number>> {
  const proc = spawn(s.argv[0]!, [...s.argv.slice(1), "sleep", "30"], { stdio: ["ignore", "ignore", "inherit"] });
  const pid = proc.pid!;
  const exited = new Promise<void>((r) => proc.on("exit", () => r()));
  let child = 0;
  try {
    // Through the exec shim the child is latchkey first, then becomes sleep (same pid).
    child = await waitFor(`${s.name}: sleep under pid ${pid}`, 10_000, () => childrenOf(pid).find((c) => comm(c) === "sleep"));
    await sleep(settleMs);
    return smapsRollup(pid);
  } finally {
    proc.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!stopped) proc.kill("SIGKILL");
    // A supervisor that does not forward SIGTERM (the hello reference) leaves sleep behind.
    if (child && alive(child)) process.kill(child, "SIGKILL");
  }
}

const mb = (kb: number) => fmt(kb / 1024, 1);

export const benchmark: Benchmark = {
  name: "memory",
  title: "Supervisor memory while the app idles",
  order: 20,
  async run(ctx: Context): Promise<string> {
    const reps = Number(process.env.BENCH_MEM_REPS ?? (ctx.quick ? 1 : 3));
    const settleMs = Number(process.env.BENCH_MEM_SETTLE_MS ?? 2000);
    const sea = buildReferenceSeas(ctx.node, ["hello-spawn"]);
    const subjects: Subject[] = [
      { name: "**latchkey -- sleep 30**", argv: [ctx.latchkey, "--"] },
      { name: "latchkey --user nobody -- sleep 30 (via the exec shim)", argv: [ctx.latchkey, "--user", "nobody", "--"] },
      { name: "hello-spawn SEA sleep 30 (bare runtime waiting on a child)", argv: [sea["hello-spawn"]!] },
      { name: "tini -s -- sleep 30", argv: ["tini", "-s", "--"] },
      { name: "dumb-init sleep 30", argv: ["dumb-init"] },
    ];
    const samples = new Map<string, Record<string, number>[]>(subjects.map((s) => [s.name, []]));
    // Interleaved repetitions: a burst of load elsewhere lands on all subjects alike.
    for (let r = 1; r <= reps; r++) {
      for (const s of subjects) {
        ctx.log(`memory ${r}/${reps}: ${s.name.replace(/\*/g, "")}`);
        samples.get(s.name)!.push(await measure(s, settleMs));
      }
    }
    const field = (name: string, f: string) => median(samples.get(name)!.map((x) => x[f] ?? 0));
    const rows = subjects.map((s) => {
      const g = (f: string) => field(s.name, f);
      return [
        s.name,
        mb(g("Rss")),
        mb(g("Anonymous")),
        mb(g("Private_Dirty")),
        mb(g("Private_Clean")),
        mb(g("Shared_Clean")),
        mb(g("Shared_Dirty")),
        mb(g("Pss")),
      ];
    });
    const lkAnon = field(subjects[0]!.name, "Anonymous") / 1024;
    const lkDirty = field(subjects[0]!.name, "Private_Dirty") / 1024;
    const refAnon = field(subjects[2]!.name, "Anonymous") / 1024;
    const worst = Math.max(lkAnon, lkDirty);
    return [
      `${reps} repetitions per supervisor, interleaved; memory read ${settleMs} ms after \`sleep\` is running under it;`,
      "medians in MB (MiB) of the supervisor process itself, from `/proc/PID/smaps_rollup`.",
      "",
      table(["supervisor", "RSS", "Anonymous", "Private_Dirty", "Private_Clean", "Shared_Clean", "Shared_Dirty", "PSS"], rows),
      "",
      verdict(worst <= TARGET_MB, `latchkey's anonymous memory ${fmt(lkAnon, 1)} MB, private dirty ${fmt(lkDirty, 1)} MB (target ≤ ${TARGET_MB} MB)`),
      "",
      `Beyond a bare runtime waiting on a child: ${fmt(lkAnon - refAnon, 1)} MB anonymous (latchkey − hello-spawn).`,
      "Clean pages (Private_Clean + Shared_Clean) are the executable's code mapped from the page cache: shared by every",
      "process running the same file and reclaimable under memory pressure. Their amount depends on how the file entered",
      "the page cache: a file written out (as when an image layer is extracted, or these executables are built) is cached",
      "in large folios, and a page fault maps a whole folio; the same latchkey copied with copy_file_range measured ~47 MB",
      "RSS with the same anonymous memory. Every executable here is written the same way, so RSS compares like with like.",
    ].join("\n");
  },
};
