/**
 * Two single executables from the same source tree, built exactly as build/build.ts builds
 * dist/latchkey (build/executable.ts): one as is, one with the provider code stubbed out (aws-sm/vault modules,
 * their flag/section registration and the policy wiring replaced by no-ops), which stands for
 * "the build before the providers existed". Startup and memory are compared between them.
 */
import type { Plugin } from "esbuild";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildExecutable } from "../../build/executable.ts";
import { out } from "../lib/paths.ts";
import { flushFile } from "../lib/files.ts";

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

export async function buildVariant(_node: string, name: string, withProviders: boolean): Promise<{ exe: string; bundleBytes: number }> {
  // Exactly as build/build.ts makes dist/latchkey (loader, trained code caches, SDK asset),
  // each variant in a directory of its own.
  const dir = join(out, `${name}.d`);
  const { exe, bundle } = await buildExecutable({ dir, name, plugins: withProviders ? [] : [stubProviders], awsSdk: withProviders });
  flushFile(exe);
  return { exe, bundleBytes: readFileSync(bundle).length };
}
