/**
 * What the aws-sm:// provider adds at startup (no SDK): flags, the config section, and its
 * bootstrap credentials for the env layer's scrub list.
 *
 *   aws:
 *     region: eu-west-1
 *     endpoint: https://vpce-0123.secretsmanager.eu-west-1.vpce.amazonaws.com
 *     profile: prod
 *     maxAttempts: 8
 *     batch: true
 */
import { registerSection, section } from "../../config/sections.ts";
import { checkKeys, expectBoolean, expectInt, expectObject, expectString, type FieldPath } from "../../config/validate.ts";
import { registerBootstrapCredentials } from "../../env/scrub.ts";
import { AWS_BOOTSTRAP_ENV, registerAwsFlags } from "./flags.ts";
import type { AwsSectionValues } from "./options.ts";

export function validateAwsSection(value: unknown, at: FieldPath): AwsSectionValues {
  const o = expectObject(value, at);
  checkKeys(o, ["region", "endpoint", "profile", "maxAttempts", "batch"], at);
  const out: AwsSectionValues = {};
  if (o.region !== undefined) out["aws-region"] = expectString(o.region, at.child("region"));
  if (o.endpoint !== undefined) out["aws-endpoint"] = expectString(o.endpoint, at.child("endpoint"));
  if (o.profile !== undefined) out["aws-profile"] = expectString(o.profile, at.child("profile"));
  if (o.maxAttempts !== undefined) out["aws-max-attempts"] = String(expectInt(o.maxAttempts, at.child("maxAttempts"), 1));
  if (o.batch !== undefined) out["aws-no-batch"] = !expectBoolean(o.batch, at.child("batch"));
  return out;
}

export function awsSectionValues(): AwsSectionValues {
  return section<AwsSectionValues>("aws") ?? {};
}

let done = false;
export function registerAws(): void {
  if (done) return;
  done = true;
  registerAwsFlags();
  registerSection("aws", { help: "AWS Secrets Manager region, endpoint, profile, retries (aws-sm:// references)", validate: validateAwsSection });
  registerBootstrapCredentials("aws-sm", AWS_BOOTSTRAP_ENV);
}
