// Types for the Secrets Manager client's endpoint resolver, imported by path in sdk-parts.ts
// (its package has no exports map and ships the declarations under dist-types/).
declare module "@aws-sdk/client-secrets-manager/dist-es/endpoint/endpointResolver.js" {
  export { defaultEndpointResolver } from "@aws-sdk/client-secrets-manager/dist-types/endpoint/endpointResolver.d.ts";
}
