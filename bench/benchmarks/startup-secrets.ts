/**
 * Startup with 1,000 secret files vs none: what reading, mapping, checking and redaction-
 * registering a big secrets dir adds to `latchkey -- /bin/true` (target ≤ 30 ms), side by
 * side with the docker-entrypoint.sh way of doing the same — a bash loop exporting every file
 * then exec'ing the app — in its usual `$(cat "$f")` form (one fork per file) and in the
 * fork-free `$(<"$f")` form.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { hyperfine, type Command } from "../lib/hyperfine.ts";
import { out } from "../lib/paths.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const TARGET_MS = 30;
const FILES = 1000;

function setup(): { empty: string; full: string; cat: string; read: string } {
  const base = join(out, "startup-secrets");
  rmSync(base, { recursive: true, force: true });
  const empty = join(base, "secrets-0");
  const full = join(base, `secrets-${FILES}`);
  mkdirSync(empty, { recursive: true });
  mkdirSync(full, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    // Names like a real secrets dir (dashes and dots to map), 32-byte random values + newline.
    writeFileSync(join(full, `app-secret.${String(i).padStart(4, "0")}`), `${randomBytes(24).toString("base64")}\n`);
  }
  // The loop entrypoints replace: upper-case, - and . to _, export, exec.
  const loop = (read: string) => [
    "#!/bin/bash",
    "set -e",
    'for f in "$1"/*; do',
    '  [ -f "$f" ] || continue',
    '  n=${f##*/}; n=${n^^}; n=${n//[-.]/_}',
    `  export "$n=${read}"`,
    "done",
    "shift",
    'exec "$@"',
    "",
  ].join("\n");
  const cat = join(base, "entrypoint-cat.sh");
  const read = join(base, "entrypoint-read.sh");
  writeFileSync(cat, loop('$(cat "$f")'), { mode: 0o755 });
  writeFileSync(read, loop('$(<"$f")'), { mode: 0o755 });
  return { empty, full, cat, read };
}

export const benchmark: Benchmark = {
  name: "startup-secrets",
  title: "Startup with secrets",
  order: 15,
  async run(ctx: Context): Promise<string> {
    const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 1 : 3));
    const runs = Number(process.env.BENCH_RUNS ?? (ctx.quick ? 10 : 30));
    const warmup = 3;
    const d = setup();
    const lk = ctx.latchkey;
    const commands: Command[] = [
      { name: "lk-0", line: `${lk} --secrets-dir ${d.empty} -- /bin/true` },
      { name: "lk-1000", line: `${lk} --secrets-dir ${d.full} -- /bin/true` },
      { name: "lk-exec-0", line: `${lk} --exec --secrets-dir ${d.empty} -- /bin/true` },
      { name: "lk-exec-1000", line: `${lk} --exec --secrets-dir ${d.full} -- /bin/true` },
      { name: "lk-check-1000", line: `${lk} check --secrets-dir ${d.full}` },
      { name: "cat-0", line: `/bin/bash ${d.cat} ${d.empty} /bin/true` },
      { name: "read-0", line: `/bin/bash ${d.read} ${d.empty} /bin/true` },
      { name: "read-1000", line: `/bin/bash ${d.read} ${d.full} /bin/true` },
    ];
    const t = hyperfine(commands, { rounds, runs, warmup, log: ctx.log });
    // The fork-per-file loop takes seconds per run: fewer runs, same rounds.
    t.push(...hyperfine([{ name: "cat-1000", line: `/bin/bash ${d.cat} ${d.full} /bin/true` }],
      { rounds, runs: ctx.quick ? 2 : 5, warmup: 1, log: ctx.log }));
    const med = (name: string) => median(t.find((x) => x.name === name)!.times) * 1e3;
    const rounds_ = (name: string) => t.find((x) => x.name === name)!.roundMedians.map((m) => fmt(m * 1e3, 1)).join(" / ");
    // CPU time (user + system, mean per run) moves less than wall time when other jobs share the cores.
    const cpu = (name: string) => { const x = t.find((y) => y.name === name)!; return (x.user + x.system) * 1e3; };
    const row = (label: string, none: string, full: string) => [
      label, fmt(med(none)), fmt(med(full)), fmt(med(full) - med(none)), fmt(cpu(full) - cpu(none), 1), rounds_(full),
    ];
    const added = med("lk-1000") - med("lk-0");
    const addedExec = med("lk-exec-1000") - med("lk-exec-0");
    return [
      `${FILES} files of 33 bytes (\`app-secret.0000\` … → \`APP_SECRET_0000\` …) vs an empty secrets dir; the app is \`/bin/true\`.`,
      `${rounds} rounds × (${warmup} warmup + ${runs} runs) with \`hyperfine -N\` (the \`$(cat)\` loop at ${FILES}: 1 + ${ctx.quick ? 2 : 5} runs per round), samples pooled; times in ms (medians).`,
      "",
      table(["command", "no secrets", `${FILES} secrets`, "added", "added CPU (user+sys)", `${FILES}: median per round`], [
        row("**latchkey --secrets-dir DIR -- /bin/true** (supervise)", "lk-0", "lk-1000"),
        row("latchkey --exec --secrets-dir DIR -- /bin/true", "lk-exec-0", "lk-exec-1000"),
        row("bash loop, `export \"$n=$(cat \"$f\")\"`; exec", "cat-0", "cat-1000"),
        row("bash loop, `export \"$n=$(<\"$f\")\"`; exec", "read-0", "read-1000"),
      ]),
      "",
      `\`latchkey check --secrets-dir DIR\` with ${FILES} secrets (reads, maps, fingerprints, prints the table): ${fmt(med("lk-check-1000"))} ms.`,
      "",
      verdict(addedExec <= TARGET_MS,
        `loading ${FILES} secrets adds ${fmt(addedExec, 1)} ms to \`latchkey --exec\` (target ≤ ${TARGET_MS} ms);` +
          ` CPU time added: ${fmt(cpu("lk-exec-1000") - cpu("lk-exec-0"), 1)} ms`),
      "",
      `In supervise mode the total grows by ${fmt(added, 1)} ms. Supervise mode also watches every secret file for rotation`,
      "(inotify on each file and directory, then a poll timer; see Rotation), but arms the watches 50 ms after the app",
      "starts: a `/bin/true` app has exited by then, so neither row includes them. The `--exec` row is the loading cost alone.",
      "",
      `Side by side at ${FILES} secrets: latchkey ${fmt(med("lk-1000"), 1)} ms, the bash \`$(cat)\` loop ${fmt(med("cat-1000"), 1)} ms` +
        ` (${fmt(med("cat-1000") / med("lk-1000"), 1)}× latchkey), the fork-free bash loop ${fmt(med("read-1000"), 1)} ms.`,
      "With no secrets bash wins: latchkey pays the Node runtime's start (see Startup), the loop pays one fork per file.",
      "The bash loops do less: no name check, no size, NUL or UTF-8 rule, no conflicts, no kubelet layout, no redaction.",
    ].join("\n");
  },
};
