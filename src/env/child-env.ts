/**
 * The app's environment. latchkey's own process environment is never modified: the app's
 * is a new object, so nothing latchkey adds is visible in /proc/<latchkey>/environ.
 */
import { Settings } from "../config/settings.ts";
import type { Identity } from "../privileges/identity.ts";

/** latchkey's own variables are configuration for latchkey, not for the app. */
export function scrubbedNames(env: NodeJS.ProcessEnv): string[] {
  const own = new Set(Settings.envNames());
  return Object.keys(env).filter((k) => own.has(k) || k.startsWith("LATCHKEY_"));
}

export function buildChildEnv(inherited: NodeJS.ProcessEnv, identity?: Identity): Record<string, string> {
  const scrub = new Set(scrubbedNames(inherited));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inherited)) if (v !== undefined && !scrub.has(k)) env[k] = v;
  // gosu sets HOME to the target user's home; apps that write ~/.cache would otherwise write /root.
  if (identity) env.HOME = identity.home;
  return env;
}
