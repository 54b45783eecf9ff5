/**
 * The parts of the AWS SDK that the thin Secrets Manager client (client.ts) keeps: the
 * standard credential chain, SigV4, the retry strategy and its error classification, the
 * shared config loaders (region, FIPS, dual-stack, configured endpoint URLs) and Secrets
 * Manager's own endpoint ruleset. This file is the entry of the SDK asset (aws-sdk.cjs, built
 * by build/executable.ts); nothing else of the SDK's client stack (client class, middleware,
 * schemas, protocol serde) is in it.
 */
export { defaultProvider } from "@aws-sdk/credential-provider-node";
export { SignatureV4 } from "@smithy/signature-v4";
export { Sha256Js } from "@smithy/core/checksum";
export { getRetryAfterHint, isServerError, isThrottlingError, isTransientError, resolveRetryConfig } from "@smithy/core/retry";
export {
  loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS, NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, resolveRegionConfig,
} from "@smithy/core/config";
export { resolveEndpointConfig } from "@smithy/core/endpoints";
export { v4 } from "@smithy/core/serde";
// The client package has no exports map: its endpoint resolver is reachable by path.
export { defaultEndpointResolver } from "@aws-sdk/client-secrets-manager/dist-es/endpoint/endpointResolver.js";
