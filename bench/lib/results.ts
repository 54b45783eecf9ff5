/**
 * bench/RESULTS.md is shared by every benchmark, including those later issues add. Each one
 * owns the text between its markers and replaces only that, so running one benchmark leaves
 * the others' last results in place.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { results } from "./paths.ts";

const HEADER = `# latchkey benchmarks

Benchmarks are run by hand, not by the test suite: \`bench/run\` runs them all, \`bench/run NAME\`
one of them (\`bench/run --list\` lists them). Every section below was written by the run it
names, with the exact command, the machine it ran on and how loaded that machine was. Reference
tools run side by side in the same run, and comparisons are ratios, so that a slower or busier
machine moves both sides together.

To add a benchmark: a file \`bench/benchmarks/NAME.ts\` exporting \`benchmark\` (see
\`bench/lib/types.ts\`); it gets its own section here, between comment markers named after it,
placed by its \`order\`. Text outside the markers is rewritten by the harness.
`;

const begin = (name: string) => `<!-- bench:${name} -->`;
const end = (name: string) => `<!-- /bench:${name} -->`;

export function readResults(): string {
  return existsSync(results) ? readFileSync(results, "utf8") : HEADER;
}

const BLOCK = /<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g;

/** Order of sections in the file, by each benchmark's `order`; unknown names go last. */
export type OrderOf = (name: string) => number;

/**
 * Replace (or add) the section `name`; `body` includes its own heading. Sections are kept
 * sorted by `orderOf`, whatever order they were first written in.
 */
export function writeSection(name: string, body: string, orderOf: OrderOf): void {
  const text = readResults();
  const blocks = new Map<string, string>();
  for (const m of text.matchAll(BLOCK)) blocks.set(m[1]!, m[0]);
  blocks.set(name, `${begin(name)}\n${body.trim()}\n${end(name)}`);
  const names = [...blocks.keys()];
  const sorted = names
    .map((n, i) => ({ n, i, o: orderOf(n) }))
    .sort((x, y) => x.o - y.o || x.i - y.i)
    .map((x) => blocks.get(x.n)!);
  writeFileSync(results, `${HEADER.trimEnd()}\n\n${sorted.join("\n\n")}\n`);
}

/** A heading and "not measured yet" text for a benchmark another issue will add. */
export function ensurePlaceholder(name: string, title: string, owner: string, orderOf: OrderOf): void {
  if (readResults().includes(begin(name))) return;
  writeSection(name, `## ${title}\n\nNot measured yet (${owner}).`, orderOf);
}
