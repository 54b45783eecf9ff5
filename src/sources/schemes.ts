/**
 * The built-in reference schemes. Each line registers a loader only: the provider module is
 * imported the first time a reference with that scheme is fetched (dynamic import, so esbuild
 * keeps it out of the startup path's evaluation).
 */
import { registerScheme } from "./source.ts";
import { registerAws } from "./aws-sm/register.ts";
import { registerVault } from "./vault/register.ts";
import { registerPolicy } from "../policy/register.ts";

export function registerBuiltinSchemes(): void {
  // one registerScheme("scheme", async () => (await import("./x/index.ts")).createXSource()) line per provider
  void registerScheme;
  registerScheme("file", async () => (await import("./file/index.ts")).createFileSource());
  registerScheme("aws-sm", async () => (await import("./aws-sm/index.ts")).createAwsSmSource());
  registerScheme("vault", async () => (await import("./vault/index.ts")).createVaultSource());
  // Flags, config sections and scrub lists of the providers and the reference policy (no client code).
  registerAws();
  registerVault();
  registerPolicy();
}
