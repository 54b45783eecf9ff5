/**
 * AWS Secrets Manager options as flags (each with a LATCHKEY_AWS_* env var and a config-file
 * key). The SDK's own variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * credentials) keep working through the SDK's standard chains. Loaded at startup; the SDK is
 * not.
 */
import { registerFlags, registerGroup, type FlagDef } from "../../cli/flags.ts";

export const AWS_FLAGS: readonly FlagDef[] = [
  { name: "aws-region", type: "string", env: "LATCHKEY_AWS_REGION", value: "REGION", group: "aws",
    help: "region (else the SDK's chain: AWS_REGION, AWS_DEFAULT_REGION, the profile's region); an ARN's region wins for that secret" },
  { name: "aws-endpoint", type: "string", env: "LATCHKEY_AWS_ENDPOINT", value: "URL", group: "aws",
    help: "Secrets Manager endpoint (private endpoint, test server); else AWS_ENDPOINT_URL_SECRETS_MANAGER" },
  { name: "aws-profile", type: "string", env: "LATCHKEY_AWS_PROFILE", value: "NAME", group: "aws",
    help: "shared config profile (else AWS_PROFILE)" },
  { name: "aws-max-attempts", type: "string", env: "LATCHKEY_AWS_MAX_ATTEMPTS", value: "N", default: "8", group: "aws", range: { min: 1, max: 50 },
    help: "attempts per request on throttling/5xx (adaptive backoff with jitter), always within the startup deadline" },
  { name: "aws-no-batch", type: "boolean", env: "LATCHKEY_AWS_NO_BATCH", group: "aws",
    help: "use GetSecretValue per secret instead of BatchGetSecretValue" },
];

/**
 * Static credentials latchkey may have used; scrubbed from the app's env by default. Ambient
 * identity pointers (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_*, AWS_ROLE_ARN) are
 * kept: the app can reach the same file or endpoint anyway, and AWS SDKs in the app need them.
 */
export const AWS_BOOTSTRAP_ENV: readonly string[] = [
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
];

let registered = false;
export function registerAwsFlags(): void {
  if (registered) return;
  registered = true;
  registerGroup("aws", "AWS Secrets Manager (aws-sm:// references)");
  registerFlags(AWS_FLAGS);
}
