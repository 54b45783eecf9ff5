/**
 * The policies in force for this run: the config file's `policy:` section (validated by the
 * config loader, see register.ts) and the `--policy FILE`, read once.
 */
import type { Settings } from "../config/settings.ts";
import { section } from "../config/sections.ts";
import type { Reference } from "../sources/source.ts";
import { checkReference, parsePolicy, readPolicyFile, type Policy } from "./policy.ts";

let fromConfig: Policy | null = null;
let cache: { key: string; policies: Policy[] } | null = null;

/** For tests (and callers without the config loader): set the config file's policy directly. */
export function setConfigPolicy(raw: unknown, source: string): void {
  fromConfig = raw === undefined || raw === null ? null : parsePolicy(raw, source);
  cache = null;
}

export function activePolicies(settings: Settings): Policy[] {
  const file = settings.string("policy");
  const key = `${file ?? ""}`;
  if (cache && cache.key === key) return cache.policies;
  const out: Policy[] = [];
  const cfg = fromConfig ?? section<Policy>("policy");
  if (cfg) out.push(cfg);
  if (file) out.push(readPolicyFile(file, settings.origin("policy")!.label));
  cache = { key, policies: out };
  return out;
}

/** Check references of any scheme (for sources that do not check themselves, e.g. file://). */
export function enforcePolicy(settings: Settings, refs: readonly Reference[]): void {
  const policies = activePolicies(settings);
  if (!policies.length) return;
  for (const r of refs) checkReference(policies, r);
}

/** For tests: forget the config policy and the cached file. */
export function resetPolicies(): void {
  fromConfig = null;
  cache = null;
}
