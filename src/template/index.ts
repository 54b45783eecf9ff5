/**
 * Templates at startup, for main.ts: read, parsed and rendered in memory before the gate, so
 * that a template error (a missing variable, a syntax error, a forbidden tag) ends the start
 * with one line before anything runs. The files are written later, where --render writes
 * (watch/setup.ts), and rotation re-renders them (watch/controller.ts).
 *
 * Without templates configured, this module's caller pays one list lookup: the engine and
 * liquidjs are imported only when a template exists.
 */
import type { Settings } from "../config/settings.ts";
import type { PreparedEnv } from "../env/prepare.ts";
import type { Identity } from "../privileges/identity.ts";
import type { RotationOptions } from "../watch/options.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";
import { templateOnly, templateSpecs } from "./config.ts";
import type { RenderedTemplates, TemplateOutputs } from "./outputs.ts";

/** The variables a template sees: every variable of the app's environment, and secrets kept out of it. */
export function templateScope(set: { env: Readonly<Record<string, string>>; secrets: Readonly<Record<string, string>> }): Record<string, string> {
  return { ...set.env, ...set.secrets };
}

/** The app's environment without the --template-only variables (templates still see them, from the secrets). */
export function hideTemplateOnly(env: Record<string, string>, names: readonly string[]): Record<string, string> {
  for (const n of names) delete env[n];
  return env;
}

export interface StartupTemplates {
  outputs: TemplateOutputs;
  /** The first render, written by setupRotation. */
  first: RenderedTemplates;
}

export async function prepareTemplates(
  settings: Settings,
  i: { env: Readonly<Record<string, string>>; prepared: Pick<PreparedEnv, "secrets">; identity?: Identity; rotation: RotationOptions },
): Promise<StartupTemplates | undefined> {
  const specs = templateSpecs(settings);
  const only = templateOnly(settings);
  if (specs.length === 0) {
    if (only.length) throw new LatchkeyError("config", ExitCode.CONFIG, `${settings.origin("template-only")!.label}: ${only.join(", ")} kept out of the app's environment, but no template is configured`);
    return undefined;
  }
  const [{ TemplateOutputs }, { resolveIdentity }] = await Promise.all([import("./outputs.ts"), import("../privileges/identity.ts")]);
  const outputs = new TemplateOutputs(specs, {
    defaultAction: i.rotation.action,
    resolveOwner: (spec) => resolveIdentity(spec),
    ...(i.identity ? { identity: i.identity } : {}),
    ...(i.rotation.render !== undefined ? { renderDir: i.rotation.render } : {}),
  });
  // The variables as rotation's SecretSet holds them (watch/pipeline.ts, secretSetFrom).
  const secrets: Record<string, string> = {};
  for (const v of i.prepared.secrets) if (v.kind !== "env-file") secrets[v.name] = v.value;
  const reads = new Set(outputs.outputs.flatMap((t) => [...t.compiled.reads]));
  const unread = only.filter((n) => !reads.has(n));
  if (unread.length) throw new LatchkeyError("config", ExitCode.CONFIG, `${settings.origin("template-only")!.label}: no template reads ${unread.join(", ")}: kept out of the app's environment, it would reach nothing`);
  const missing = only.filter((n) => !(n in secrets));
  if (missing.length) throw new LatchkeyError("config", ExitCode.CONFIG, `${settings.origin("template-only")!.label}: ${missing.join(", ")} is not a secret latchkey loaded`);
  return { outputs, first: outputs.render(templateScope({ env: i.env, secrets })) };
}
