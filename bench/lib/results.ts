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
\`bench/lib/types.ts\`); it gets its own section here, between \`<!-- bench:NAME -->\` markers.
`;

const begin = (name: string) => `<!-- bench:${name} -->`;
const end = (name: string) => `<!-- /bench:${name} -->`;

export function readResults(): string {
  return existsSync(results) ? readFileSync(results, "utf8") : HEADER;
}

/** Replace (or append) the section `name`; `body` includes its own heading. */
export function writeSection(name: string, body: string): void {
  const text = readResults();
  const block = `${begin(name)}\n${body.trim()}\n${end(name)}`;
  const a = text.indexOf(begin(name));
  const b = text.indexOf(end(name));
  const next = a >= 0 && b > a
    ? text.slice(0, a) + block + text.slice(b + end(name).length)
    : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(results, next);
}

/** A heading and "not measured yet" text for a benchmark another issue will add. */
export function ensurePlaceholder(name: string, title: string, owner: string): void {
  if (readResults().includes(begin(name))) return;
  writeSection(name, `## ${title}\n\nNot measured yet (${owner}).`);
}
