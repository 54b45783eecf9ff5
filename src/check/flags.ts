/** The flags only `latchkey check` reads (registered with the secret flags, src/env/flags.ts). */
import type { FlagDef } from "../cli/flags.ts";

export const FINGERPRINT_KEY_FILE_FLAG: FlagDef = {
  name: "fingerprint-key-file", type: "string", env: "LATCHKEY_FINGERPRINT_KEY_FILE", value: "FILE", group: "general",
  help: "check: key (at least 16 bytes) for the HMAC fingerprints, so runs and hosts given the same file can be compared; default: a random key per run",
};
