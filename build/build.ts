/**
 * npm run build: dist/latchkey (the single executable) and dist/latchkey.cjs (the bundle, for
 * images that already have Node 26: run it with node --experimental-ffi), with their sizes
 * and SHA256SUMS. Runs offline once node_modules is installed; run it with the pinned runtime
 * (scripts/build does).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildExecutable } from "./executable.ts";

const dist = join(import.meta.dirname, "..", "dist");
let built;
try {
  built = await buildExecutable({ dir: dist, name: "latchkey" });
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}

const sums: string[] = [];
for (const p of [built.exe, built.bundle, ...built.codeCaches]) {
  const f = basename(p);
  const data = readFileSync(p);
  sums.push(`${createHash("sha256").update(data).digest("hex")}  ${f}`);
  const mb = (n: number) => (n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 3 : 1);
  console.log(`build: dist/${f.padEnd(25)} ${mb(statSync(p).size).padStart(6)} MB, ${mb(gzipSync(data, { level: 6 }).length).padStart(5)} MB gzipped`);
}
writeFileSync(join(dist, "SHA256SUMS"), sums.join("\n") + "\n");
