/**
 * The gate's stages for this run, in order. The required-secrets validation (file-secrets
 * work) goes first: pass it as `first`, wrapped with `functionStage("secrets", fn)`, so that
 * a missing secret fails before any waiting, with its own exit code.
 */
import type { LaunchSpec } from "../launch/spec.ts";
import type { GateConfig } from "./config.ts";
import { hooksStage, resolveHooks } from "./hooks.ts";
import type { GateStage } from "./stage.ts";
import { waitsStage } from "./waits.ts";

export function gateStages(config: GateConfig, spec: LaunchSpec, stopTimeoutMs: number, first: readonly GateStage[] = []): GateStage[] {
  const stages: GateStage[] = [...first];
  if (config.waits.length > 0) stages.push(waitsStage(config.waits, config.waitTimeoutMs));
  if (config.preStart.length > 0) {
    const runner = spec.identity ?? { uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!() };
    // Resolved now, before any waiting: a typo in a hook is a 127 at once, not after a minute.
    const hooks = resolveHooks(config.preStart, spec.env, runner);
    stages.push(hooksStage(hooks, { env: spec.env, stopTimeoutMs, ...(spec.identity ? { identity: spec.identity } : {}) }));
  }
  return stages;
}
