/**
 * The policies in force for this run, every one of which a reference must pass:
 *   - the platform's file, /etc/latchkey/policy.yaml, whenever it exists. Nothing in the
 *     environment or the command line can turn it off: `LATCHKEY_POLICY=` in a compose
 *     override, or another LATCHKEY_CONFIG, only changes the policies *added* to it;
 *   - the config file's `policy:` section (validated by the config loader, see register.ts);
 *   - `--policy FILE` / LATCHKEY_POLICY.
 * Read once per run, at startup, whether or not a reference is used: a broken policy file is
 * an error even in a run that would not have needed it.
 *
 * "Whenever it exists" must not become "whenever latchkey can see it": if /etc/latchkey
 * cannot be searched (EACCES: latchkey started as a user the platform did not expect), or
 * the file cannot be read, startup fails (77) instead of running without the platform's
 * rules. Only ENOENT (no such file or directory) means "no platform policy".
 */
import { statSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../errors.ts";
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
  if (platformPolicyExists(platform) && platform !== file) out.push(readPolicyFile(platform, `the platform policy ${platform}`));
  const cfg = fromConfig ?? section<Policy>("policy");
  if (cfg) out.push(cfg);
  if (file) out.push(readPolicyFile(file, settings.origin("policy")!.label));
  cache = { key, policies: out };
  return out;
}

function platformPolicyExists(platform: string): boolean {
  try {
    return statSync(platform, { throwIfNoEntry: false }) !== undefined; // ENOENT without an exception: the usual case, every start
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LatchkeyError("policy", code === "EACCES" || code === "EPERM" ? ExitCode.NO_PERM : ExitCode.CONFIG,
      `the platform policy ${platform} cannot be checked (${code ?? String(e)}; latchkey runs as uid ${process.getuid?.()}): refusing to start without it`);
  }
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
