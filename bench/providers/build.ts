/**
 * Two single executables from the same source tree, built exactly as build/build.ts builds
 * dist/latchkey (AWS SDK as a SEA asset): one as is, one with the provider code stubbed out (aws-sm/vault modules,
 * their flag/section registration and the policy wiring replaced by no-ops), which stands for
 * "the build before the providers existed". Startup and memory are compared between them.
 */
import { build, type Plugin } from "esbuild";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { out, root } from "../lib/paths.ts";
import { flushFile } from "../lib/files.ts";
import { latchkeyExecArgv } from "../lib/sea.ts";

// Import paths as written in src/ (relative): ./aws-sm/index.ts, ./vault/register.ts, ../policy/register.ts.
const STUB = /(^|\/)((aws-sm|vault)\/(index|register)|policy\/register)\.ts$/;

const stubProviders: Plugin = {
  name: "stub-providers",
  setup(b) {
    b.onResolve({ filter: STUB }, (args) => ({ path: args.path, namespace: "stub" }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      loader: "js",
      contents: "export function registerAws(){} export function registerVault(){} export function registerPolicy(){}" +
        " export function createAwsSmSource(){throw new Error('stub')} export function createVaultSource(){throw new Error('stub')}",
    }));
  },
};

export async function buildVariant(node: string, name: string, withProviders: boolean): Promise<{ exe: string; bundleBytes: number }> {
  mkdirSync(out, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const bundle = join(out, `${name}.cjs`);
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
    logLevel: "warning",
    external: ["@aws-sdk/client-secrets-manager"],
    plugins: withProviders ? [] : [stubProviders],
  });
  // As build/build.ts: the AWS SDK travels as a SEA asset, loaded on first aws-sm:// use.
  const sdk = join(out, `${name}-aws-sdk.cjs`);
  if (withProviders) {
    await build({
      stdin: { contents: 'module.exports = require("@aws-sdk/client-secrets-manager");', resolveDir: root, loader: "js" },
      outfile: sdk, bundle: true, platform: "node", format: "cjs", target: "node26", minify: true, legalComments: "none", logLevel: "warning",
    });
  }
  const base = join(out, `.${name}-base`);
  copyFileSync(node, base);
  if (spawnSync("strip", ["--strip-all", base]).status !== 0) throw new Error("bench: strip failed");
  const exe = join(out, name);
  const config = join(out, `${name}.sea.json`);
  writeFileSync(config, JSON.stringify({
    main: bundle, output: exe, executable: base, disableExperimentalSEAWarning: true,
    useCodeCache: true, useSnapshot: false, execArgvExtension: "none", execArgv: latchkeyExecArgv(),
    ...(withProviders ? { assets: { "aws-sdk.cjs": sdk } } : {}),
  }));
  execFileSync(node, ["--build-sea", config], { stdio: ["ignore", "ignore", "inherit"] });
  chmodSync(exe, 0o755);
  flushFile(exe);
  rmSync(config);
  rmSync(base);
  const bundleBytes = readFileSync(bundle).length;
  return { exe, bundleBytes };
}
