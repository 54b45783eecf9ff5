/**
 * AWS SDK failures as latchkey errors: each names the reference (never a value), the region,
 * and for AccessDenied the caller identity when AWS put it in the message ("User: arn:... is
 * not authorized to perform ...").
 */
import { ExitCode, LatchkeyError } from "../../errors.ts";

export function callerFrom(message: string): string | undefined {
  return /(arn:aws[\w-]*:(?:iam|sts)::\d{12}:[^\s,]+)/.exec(message)?.[1];
}

export interface AwsFailureContext {
  raw: string;
  region: string | undefined;
  endpoint: string | undefined;
  /** The last error an attempt saw, when the whole call was cut by the deadline. */
  lastAttempt?: unknown;
  timedOut: boolean;
}

export function describeAwsError(e: unknown, c: AwsFailureContext): LatchkeyError {
  if (e instanceof LatchkeyError) return e;
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err?.name ?? "Error";
  const msg = String(err?.message ?? e).replace(/\s+/g, " ").trim();
  const where = `${c.region ?? "no region"}${c.endpoint ? `, endpoint ${c.endpoint}` : ""}`;
  if (c.timedOut || name === "AbortError") {
    const last = c.lastAttempt as { name?: string; message?: string; code?: string } | undefined;
    const why = last ? `${last.name ?? "Error"}${last.code ? ` ${last.code}` : ""}: ${String(last.message ?? "").slice(0, 160)}` : "no answer";
    return new LatchkeyError("aws-timeout", ExitCode.TEMP_FAIL, `${c.raw}: gave up at the startup deadline (${where}); last attempt: ${why}`);
  }
  if (/Region is missing/i.test(msg) || name === "ConfigError" && /region/i.test(msg)) {
    return new LatchkeyError("aws-config", ExitCode.CONFIG, `${c.raw}: no AWS region: set --aws-region, AWS_REGION (or a profile's region), or use the secret's full ARN`);
  }
  if (name === "EndpointError") {
    return new LatchkeyError("aws-config", ExitCode.CONFIG, `${c.raw}: no Secrets Manager endpoint for this configuration (${where}): ${msg.slice(0, 200)} (--aws-endpoint or AWS_ENDPOINT_URL_SECRETS_MANAGER cannot be combined with AWS_USE_FIPS_ENDPOINT or AWS_USE_DUALSTACK_ENDPOINT, or a profile's use_fips_endpoint/use_dualstack_endpoint)`);
  }
  if (name === "CredentialsProviderError" || /Could not load credentials|credential/i.test(name) || /Could not load credentials/i.test(msg)) {
    return new LatchkeyError("aws-credentials", ExitCode.CONFIG, `${c.raw}: no AWS credentials found (tried env, shared config/profile, SSO, web identity/IRSA, ECS container credentials, IMDSv2): ${msg.slice(0, 200)}`);
  }
  switch (name) {
    case "ResourceNotFoundException":
      return new LatchkeyError("aws-not-found", ExitCode.NO_INPUT, `${c.raw}: secret not found in ${where} (ResourceNotFoundException)`);
    case "AccessDeniedException": {
      const who = callerFrom(msg);
      return new LatchkeyError("aws-denied", ExitCode.NO_PERM, `${c.raw}: access denied${who ? ` for ${who}` : ""} in ${where} (AccessDeniedException)`);
    }
    case "DecryptionFailure":
      return new LatchkeyError("aws-denied", ExitCode.NO_PERM, `${c.raw}: Secrets Manager cannot decrypt it with its KMS key (DecryptionFailure: check kms:Decrypt for the caller)`);
    case "InvalidRequestException":
    case "InvalidParameterException":
    case "ValidationException":
      return new LatchkeyError("aws-invalid", ExitCode.NO_INPUT, `${c.raw}: refused by Secrets Manager in ${where} (${name}: ${msg.slice(0, 200)})`);
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
    case "ExpiredTokenException":
      return new LatchkeyError("aws-credentials", ExitCode.NO_PERM, `${c.raw}: AWS rejected latchkey's credentials (${name})`);
  }
  if (err?.code && /^E[A-Z]+$/.test(err.code)) {
    return new LatchkeyError("aws-unreachable", ExitCode.TEMP_FAIL, `${c.raw}: cannot reach Secrets Manager (${where}): ${err.code}`);
  }
  return new LatchkeyError("aws", ExitCode.TEMP_FAIL, `${c.raw}: Secrets Manager failed in ${where}: ${name}: ${msg.slice(0, 200)}`);
}
