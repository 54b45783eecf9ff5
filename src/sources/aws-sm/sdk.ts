/**
 * The AWS SDK, loaded on first use. In the single executable it is not part of the main
 * script: build/build.ts bundles it separately and ships it as the SEA asset `aws-sdk.cjs`
 * (~475 KB minified), so that parsing it never weighs on a start without aws-sm://
 * references. dist/latchkey.cjs loads dist/aws-sdk.cjs beside it; in tests it is the npm package.
 */
import type * as Sdk from "@aws-sdk/client-secrets-manager";
import { ExitCode, LatchkeyError } from "../../errors.ts";

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
  // dist/latchkey.cjs run by a plain node: the SDK bundle ships beside it as dist/aws-sdk.cjs.
  if (typeof __dirname === "string" && typeof require === "function") {
    const { existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const beside = join(__dirname, SDK_ASSET);
    if (existsSync(beside)) return require(beside) as SdkModule;
  }
  try {
    return await import("@aws-sdk/client-secrets-manager");
  } catch (e) {
    throw new LatchkeyError("aws-sdk-missing", ExitCode.CONFIG,
      `aws-sm:// needs the AWS SDK: ship ${SDK_ASSET} beside latchkey.cjs (both are in dist/), or use the single executable`, { cause: e });
  }
}
