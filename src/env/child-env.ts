/**
 * The app's environment. latchkey's own process environment is never modified: the app's
 * is a new object, so nothing latchkey adds is visible in /proc/<latchkey>/environ.
 */
import { Settings } from "../config/settings.ts";
import type { Identity } from "../privileges/identity.ts";
import type { PreparedEnv } from "./prepare.ts";

/** latchkey's own variables are configuration for latchkey, not for the app. */
export function scrubbedNames(env: NodeJS.ProcessEnv): string[] {
  const own = new Set(Settings.envNames());
  return Object.keys(env).filter((k) => own.has(k) || k.startsWith("LATCHKEY_"));
}

/**
 * The child's env: `prepared.env` (secrets loaded, scrubbed) when secrets were prepared,
 * else the inherited env minus latchkey's own variables; then HOME for --user.
 */
export function buildChildEnv(inherited: NodeJS.ProcessEnv, identity?: Identity, prepared?: Pick<PreparedEnv, "env">): Record<string, string> {
  let env: Record<string, string>;
  if (prepared) env = { ...prepared.env };
  else {
    const scrub = new Set(scrubbedNames(inherited));
    env = {};
    for (const [k, v] of Object.entries(inherited)) if (v !== undefined && !scrub.has(k)) env[k] = v;
  }
  // gosu sets HOME to the target user's home; apps that write ~/.cache would otherwise write /root.
  if (identity) env.HOME = identity.home;
  return env;
}
