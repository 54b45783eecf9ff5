import { describe, expect, it } from "vitest";
import { resolveAwsOptions } from "../../../../src/sources/aws-sm/options.ts";
import { registerAwsFlags, AWS_BOOTSTRAP_ENV } from "../../../../src/sources/aws-sm/flags.ts";
import { VAULT_BOOTSTRAP_ENV } from "../../../../src/sources/vault/flags.ts";
import { callerFrom, describeAwsError } from "../../../../src/sources/aws-sm/errors.ts";
import { Settings } from "../../../../src/config/settings.ts";

registerAwsFlags();
const opts = (env: Record<string, string>, flags: Record<string, string | boolean> = {}, section: Record<string, string | boolean> = {}) =>
  resolveAwsOptions(new Settings({ flags, env }), env, section);

describe("aws options", () => {
  it("leaves unset values to the SDK chain; flag > env > config section", () => {
    expect(opts({})).toEqual({ maxAttempts: 8, batch: true });
    expect(opts({}, {}, { "aws-region": "eu-west-1", "aws-no-batch": true })).toMatchObject({ region: "eu-west-1", batch: false });
    expect(opts({ LATCHKEY_AWS_REGION: "us-west-2" }, {}, { "aws-region": "eu-west-1" }).region).toBe("us-west-2");
    expect(opts({ AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:1" }).endpoint).toBe("http://127.0.0.1:1");
    expect(opts({ AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://a:1" }, { "aws-endpoint": "http://b:2" }).endpoint).toBe("http://b:2");
  });
  it("the standard AWS_* variables sit between LATCHKEY_AWS_* and the config section (as VAULT_* do)", () => {
    const section = { "aws-region": "eu-west-1", "aws-endpoint": "http://config:1", "aws-profile": "from-config" };
    const std = { AWS_REGION: "ap-south-1", AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://std:2", AWS_PROFILE: "from-env" };
    expect(opts(std, {}, section)).toMatchObject({ region: "ap-south-1", endpoint: "http://std:2", profile: "from-env" });
    expect(opts({ AWS_DEFAULT_REGION: "sa-east-1" }, {}, section).region).toBe("sa-east-1");
    expect(opts({ ...std, LATCHKEY_AWS_REGION: "us-west-2" }, {}, section).region).toBe("us-west-2");
    expect(opts({}, {}, section)).toMatchObject({ region: "eu-west-1", endpoint: "http://config:1", profile: "from-config" });
    expect(() => opts({ AWS_REGION: "mars" })).toThrow(/AWS_REGION: invalid value 'mars'/);
  });
  it("refuses bad values naming the origin", () => {
    expect(() => opts({}, { "aws-region": "mars" })).toThrow(/--aws-region: invalid value 'mars'/);
    expect(() => opts({ LATCHKEY_AWS_ENDPOINT: "not a url" })).toThrow(/LATCHKEY_AWS_ENDPOINT/);
    expect(() => opts({}, { "aws-max-attempts": "0" })).toThrow(/--aws-max-attempts/);
  });
});

describe("aws errors", () => {
  const c = { raw: "aws-sm://prod/db#password", region: "us-east-1", endpoint: undefined, timedOut: false };
  it("map to exit codes and name the reference and the caller", () => {
    const nf = describeAwsError(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: "ResourceNotFoundException" }), c);
    expect(nf.exitCode).toBe(66);
    expect(nf.message).toContain("aws-sm://prod/db#password");
    const ad = describeAwsError(Object.assign(new Error("User: arn:aws:sts::123456789012:assumed-role/app/i-1 is not authorized to perform: secretsmanager:GetSecretValue"), { name: "AccessDeniedException" }), c);
    expect(ad.exitCode).toBe(77);
    expect(ad.message).toContain("arn:aws:sts::123456789012:assumed-role/app/i-1");
    expect(describeAwsError(new Error("Region is missing"), c).exitCode).toBe(78);
    const ep = describeAwsError(Object.assign(new Error("Invalid Configuration: FIPS and custom endpoint are not supported"), { name: "EndpointError" }), c);
    expect(ep.exitCode).toBe(78);
    expect(ep.message).toMatch(/FIPS and custom endpoint are not supported.*AWS_USE_FIPS_ENDPOINT/);
    expect(describeAwsError(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }), c).exitCode).toBe(78);
    const to = describeAwsError(new Error("aborted"), { ...c, timedOut: true, lastAttempt: Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }) });
    expect(to.exitCode).toBe(75);
    expect(to.message).toContain("ThrottlingException");
  });
  it("callerFrom finds IAM and STS ARNs only", () => {
    expect(callerFrom("User: arn:aws:iam::123456789012:user/bob is not")).toBe("arn:aws:iam::123456789012:user/bob");
    expect(callerFrom("no identity here")).toBeUndefined();
  });
});

describe("bootstrap credentials", () => {
  it("lists static credentials only (ambient identity pointers stay for the app's own SDKs)", () => {
    expect(AWS_BOOTSTRAP_ENV).toContain("AWS_SECRET_ACCESS_KEY");
    expect(AWS_BOOTSTRAP_ENV).not.toContain("AWS_REGION");
    expect(AWS_BOOTSTRAP_ENV).not.toContain("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    expect(VAULT_BOOTSTRAP_ENV).toEqual(["VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "BAO_TOKEN", "BAO_ROLE_ID", "BAO_SECRET_ID"]);
  });
});
