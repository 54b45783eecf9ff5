/**
 * The `file://` scheme: `DB_URL=file:///run/secrets/db_url` (absolute) or `file://./secrets/x`
 * (relative to latchkey's working directory, for local development). Reads are bounded by
 * the configured size limit before any content rule runs.
 */
import type { FetchedSecret, Reference, SecretSource } from "../source.ts";
import { readSecretFile } from "./read.ts";

let limit = 64 * 1024;
/** Set by the env loader from --max-size before anything is fetched. */
export function setFileSizeLimit(bytes: number): void {
  limit = bytes;
}

export function createFileSource(): SecretSource {
  return {
    scheme: "file",
    async fetch(refs: readonly Reference[]): Promise<FetchedSecret[]> {
      return refs.map((ref) => {
        const { bytes, version } = readSecretFile(ref.locator, limit, `file reference '${ref.raw}'`);
        return { ref, value: bytes, version };
      });
    },
  };
}
