/**
 * Each concern adds its flags, config-file sections and reference schemes here, before the
 * command line is parsed. Registration is data only: no provider code is loaded (schemes
 * register loaders that import their provider on first use).
 */
import { registerSecretFlags } from "./env/flags.ts";
import { registerSecretSections } from "./env/rules.ts";
import "./gate/flags.ts";
import { registerBuiltinSchemes } from "./sources/schemes.ts";
import { decorateSources } from "./sources/source.ts";
import { registerRotationSection } from "./watch/config.ts";
import { registerRotationFlags } from "./watch/flags.ts";
import { cachingSource } from "./watch/source-cache.ts";
import { registerTemplates } from "./template/config.ts";

let done = false;
export function registerConcerns(): void {
  if (done) return;
  done = true;
  registerSecretFlags();
  registerSecretSections();
  registerBuiltinSchemes();
  registerRotationFlags();
  registerRotationSection();
  registerTemplates();
  decorateSources(cachingSource); // reloads fetch only what changed; leased secrets are not re-minted
}
