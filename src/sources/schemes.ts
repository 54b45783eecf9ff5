/**
 * The built-in reference schemes. Each line registers a loader only: the provider module is
 * imported the first time a reference with that scheme is fetched (dynamic import, so esbuild
 * keeps it out of the startup path's evaluation).
 */
import { registerScheme } from "./source.ts";

export function registerBuiltinSchemes(): void {
  // one registerScheme("scheme", async () => (await import("./x/index.ts")).createXSource()) line per provider
  void registerScheme;
  registerScheme("file", async () => (await import("./file/index.ts")).createFileSource());
}
