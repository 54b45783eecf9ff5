/**
 * The policies in force for this run, every one of which a reference must pass:
 *   - the platform's file, /etc/latchkey/policy.yaml, whenever it exists. Nothing in the
 *     environment or the command line can turn it off: `LATCHKEY_POLICY=` in a compose
 *     override, or another LATCHKEY_CONFIG, only changes the policies *added* to it;
 *   - the config file's `policy:` section (validated by the config loader, see register.ts);
 *   - `--policy FILE` / LATCHKEY_POLICY.
 * Read once per run.
 */
import { existsSync } from "node:fs";
import type { Settings } from "../config/settings.ts";
import { section } from "../config/sections.ts";
import type { Reference } from "../sources/source.ts";
import { checkReference, parsePolicy, readPolicyFile, type Policy } from "./policy.ts";

export const PLATFORM_POLICY = "/etc/latchkey/policy.yaml";

let fromConfig: Policy | null = null;
let cache: { key: string; policies: Policy[] } | null = null;

/** For tests (and callers without the config loader): set the config file's policy directly. */
export function setConfigPolicy(raw: unknown, source: string): void {
  fromConfig = raw === undefined || raw === null ? null : parsePolicy(raw, source);
  cache = null;
}

export function activePolicies(settings: Settings, platform = PLATFORM_POLICY): Policy[] {
  const file = settings.string("policy");
  const key = `${platform}\0${file ?? ""}`;
  if (cache && cache.key === key) return cache.policies;
  const out: Policy[] = [];
  if (existsSync(platform) && platform !== file) out.push(readPolicyFile(platform, `the platform policy ${platform}`));
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
