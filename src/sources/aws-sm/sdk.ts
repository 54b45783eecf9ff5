/**
 * The AWS SDK's parts (sdk-parts.ts) that the thin client (client.ts) drives, loaded on first
 * use. In the single executable they are not part of the main script: build/executable.ts
 * bundles them separately and ships them as the SEA asset `aws-sdk.cjs`, so that parsing them
 * never weighs on a start without aws-sm:// references. That bundle is compiled with a V8 code
 * cache (`aws-sdk.codecache`) that the build trained on a fetch (build/train.ts): without one,
 * every start with a reference compiled every SDK function it ran, ~40 ms of the ~90 ms the
 * first reference cost (issue 15; profile in bench/RESULTS.md).
 * dist/latchkey.cjs loads dist/aws-sdk.cjs beside it; in tests it is the npm packages.
 */
import type * as Sdk from "./sdk-parts.ts";
import { ExitCode, LatchkeyError } from "../../errors.ts";
import { unwrapCache } from "../../sea-assets.ts";

export type SdkModule = typeof Sdk;
export const SDK_ASSET = "aws-sdk.cjs";
export const SDK_CACHE = "aws-sdk.codecache";

let loading: Promise<SdkModule> | null = null;

export function loadSdk(): Promise<SdkModule> {
  loading ??= load();
  return loading;
}

async function load(): Promise<SdkModule> {
  // Built-ins by getBuiltinModule: the bundle runs as a vm.Script in the single executable
  // (src/sea-main.ts), where import() would go through the ESM loader.
  const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea") | undefined;
  if (sea?.isSea()) {
    let code: Buffer | null = null;
    let cache: Buffer | undefined;
    try {
      code = Buffer.from(sea.getRawAsset(SDK_ASSET));
    } catch {
      code = null; // an executable built without the asset: fall back to a regular require
    }
    try {
      cache = unwrapCache(Buffer.from(sea.getRawAsset(SDK_CACHE))); // stored aligned (src/sea-assets.ts)
    } catch {
      cache = undefined; // built without a cache: compiled at run time, only slower
    }
    if (code !== null) return runSdk(code.toString("latin1"), cache);
  }
  // The build's training runs (build/train.ts): the bundle beside, its cache written at exit.
  if (process.env.LATCHKEY_CODE_CACHE_TRAIN === "1" && typeof __dirname === "string") {
    const { existsSync, readFileSync, writeFileSync } = process.getBuiltinModule("node:fs") as typeof import("node:fs");
    const { join } = process.getBuiltinModule("node:path") as typeof import("node:path");
    const beside = join(__dirname, SDK_ASSET);
    if (existsSync(beside)) {
      return runSdk(readFileSync(beside, "latin1"), undefined, (data) => writeFileSync(join(__dirname, SDK_CACHE), data));
    }
  }
  // dist/latchkey.cjs run by a plain node: the SDK bundle ships beside it as dist/aws-sdk.cjs.
  if (typeof __dirname === "string" && typeof require === "function") {
    const { existsSync } = process.getBuiltinModule("node:fs") as typeof import("node:fs");
    const { join } = process.getBuiltinModule("node:path") as typeof import("node:path");
    const beside = join(__dirname, SDK_ASSET);
    if (existsSync(beside)) return require(beside) as SdkModule;
  }
  try {
    // In tests (no bundle): the SDK's packages from node_modules. A specifier esbuild leaves
    // alone: the bundles must not carry the SDK.
    const parts = "./sdk-parts.ts";
    return (await import(parts)) as SdkModule;
  } catch (e) {
    throw new LatchkeyError("aws-sdk-missing", ExitCode.CONFIG,
      `aws-sm:// needs the AWS SDK: ship ${SDK_ASSET} beside latchkey.cjs (both are in dist/), or use the single executable`, { cause: e });
  }
}

/**
 * Compile and run the bundle (ASCII: esbuild escapes the rest) as a CommonJS module, with the
 * code cache when there is one. Built-ins by getBuiltinModule: the bundle runs as a vm.Script
 * in the single executable (src/sea-main.ts), where import() would go through the ESM loader.
 */
function runSdk(code: string, cachedData: Buffer | undefined, train?: (data: Buffer) => void): SdkModule {
  const { Script } = process.getBuiltinModule("node:vm") as typeof import("node:vm");
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: SDK_ASSET,
    ...(cachedData ? { cachedData } : {}),
  });
  if (process.env.LATCHKEY_CODE_CACHE_CHECK === "1") {
    process.stderr.write(`code cache: ${SDK_ASSET}: ${cachedData ? (script.cachedDataRejected ? "rejected" : "accepted") : "absent"}\n`);
  }
  // After the run, so that the cache holds every function the fetch compiled.
  if (train) process.on("exit", () => train(script.createCachedData()));
  const wrapper = script.runInThisContext() as (e: object, r: NodeJS.Require, m: { exports: object }, f: string, d: string) => void;
  const mod = { exports: {} };
  // The bundle needs only Node built-ins, which the executable's require provides.
  wrapper(mod.exports, require, mod, SDK_ASSET, "/");
  return mod.exports as SdkModule;
}
