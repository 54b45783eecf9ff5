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
  // Built-ins by getBuiltinModule: the bundle runs as a vm.Script in the single executable
  // (src/sea-main.ts), where import() would go through the ESM loader.
  const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea") | undefined;
  if (sea?.isSea()) {
    let code: string | null = null;
    try {
      code = sea.getAsset(SDK_ASSET, "utf8");
    } catch {
      code = null; // an executable built without the asset: fall back to a regular require
    }
    if (code !== null) {
      const { runInThisContext } = process.getBuiltinModule("node:vm") as typeof import("node:vm");
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
    const { existsSync } = process.getBuiltinModule("node:fs") as typeof import("node:fs");
    const { join } = process.getBuiltinModule("node:path") as typeof import("node:path");
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
