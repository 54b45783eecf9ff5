/**
 * The AWS SDK, loaded on first use. In the single executable it is not part of the main
 * script: build/build.ts bundles it separately and ships it as the SEA asset `aws-sdk.cjs`
 * (~475 KB minified), so that parsing it never weighs on a start without aws-sm://
 * references. Outside the executable (tests, benchmarks) it is the npm package.
 */
import type * as Sdk from "@aws-sdk/client-secrets-manager";

export type SdkModule = typeof Sdk;
export const SDK_ASSET = "aws-sdk.cjs";

let loading: Promise<SdkModule> | null = null;

export function loadSdk(): Promise<SdkModule> {
  loading ??= load();
  return loading;
}

async function load(): Promise<SdkModule> {
  const sea = await import("node:sea").catch(() => null);
  if (sea?.isSea()) {
    let code: string | null = null;
    try {
      code = sea.getAsset(SDK_ASSET, "utf8");
    } catch {
      code = null; // an executable built without the asset: fall back to a regular require
    }
    if (code !== null) {
      const { runInThisContext } = await import("node:vm");
      const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: SDK_ASSET }) as
        (e: object, r: NodeJS.Require, m: { exports: object }, f: string, d: string) => void;
      const mod = { exports: {} };
      // The bundle needs only Node built-ins, which the executable's require provides.
      wrapper(mod.exports, require, mod, SDK_ASSET, "/");
      return mod.exports as SdkModule;
    }
  }
  return import("@aws-sdk/client-secrets-manager");
}
