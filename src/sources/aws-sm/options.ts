/**
 * AWS options from latchkey's layered settings. Precedence, as for Vault: flag > LATCHKEY_AWS_*
 * > the standard variable (AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * AWS_PROFILE) > config `aws:` section > default. Whatever is not set is left to the SDK's
 * standard chains (shared config, env/SSO/web identity/ECS/IMDSv2 credentials).
 */
import { configError, usageError, type LatchkeyError } from "../../errors.ts";

/** A bad value is a usage error when it came from the command line, a config error otherwise. */
function bad(from: string, message: string): LatchkeyError {
  return from.startsWith("--") ? usageError(`${from}: ${message}`) : configError(`${from}: ${message}`);
}
import type { Settings } from "../../config/settings.ts";

export interface AwsOptions {
  region?: string;
  endpoint?: string;
  profile?: string;
  maxAttempts: number;
  batch: boolean;
}

export type AwsSectionValues = Record<string, string | boolean>;

export function resolveAwsOptions(s: Settings, env: NodeJS.ProcessEnv, section: AwsSectionValues = {}): AwsOptions {
  const pick = (flag: string, standard: readonly string[] = []): { value: string; from: string } | undefined => {
    const o = s.origin(flag);
    if (o && o.kind !== "default") {
      const v = s.string(flag);
      if (v) return { value: v, from: o.label };
    }
    for (const name of standard) if (env[name]) return { value: env[name]!, from: name };
    const sv = section[flag];
    if (typeof sv === "string" && sv !== "") return { value: sv, from: `config aws: (${flag})` };
    const d = s.string(flag);
    return d ? { value: d, from: o?.label ?? flag } : undefined;
  };
  const region = pick("aws-region", ["AWS_REGION", "AWS_DEFAULT_REGION"]);
  if (region && !/^[a-z]{2,}(-[a-z0-9]+)+-\d+$/.test(region.value)) throw bad(region.from, `invalid value '${region.value}': expected an AWS region such as us-east-1`);
  const endpoint = pick("aws-endpoint", ["AWS_ENDPOINT_URL_SECRETS_MANAGER"]);
  if (endpoint) {
    let u: URL | null = null;
    try {
      u = new URL(endpoint.value);
    } catch {
      u = null;
    }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) throw bad(endpoint.from, `invalid value '${endpoint.value}': expected an http:// or https:// URL`);
  }
  const attempts = pick("aws-max-attempts");
  const maxAttempts = Number(attempts?.value ?? "8");
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 50) throw bad(attempts?.from ?? "aws-max-attempts", `invalid value '${attempts?.value}': expected an integer from 1 to 50`);
  const o = s.origin("aws-no-batch");
  const noBatch = o && o.kind !== "default" ? s.boolean("aws-no-batch") : section["aws-no-batch"] === true;
  const profile = pick("aws-profile", ["AWS_PROFILE"]);
  return {
    ...(region ? { region: region.value } : {}),
    ...(endpoint ? { endpoint: endpoint.value } : {}),
    ...(profile ? { profile: profile.value } : {}),
    maxAttempts,
    batch: !noBatch,
  };
}
