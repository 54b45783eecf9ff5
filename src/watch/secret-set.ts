/**
 * What one complete load of all sources produced: the contract between the loading pipeline
 * (sources → env → validation → gate) and rotation. A SecretSet exists only when every
 * source answered and the result passed validation: a failed or invalid load throws, so a
 * partial set can never reach the app.
 */
import type { Action } from "./options.ts";

export interface SecretSet {
  /** The app's complete environment. */
  env: Record<string, string>;
  /** Variables whose values are secrets, by name (rendered with --render; may include ones kept out of env). */
  secrets: Record<string, string>;
  /** Files and directories the secrets were read from (watched; missing ones are watched for). */
  files: string[];
  /** Per-variable source scheme (`file`, `aws-sm`, `vault`), for per-source actions. */
  origins?: Record<string, string>;
  /**
   * Cheap remote checks, one per source scheme (`aws-sm`, `vault`): true when the provider
   * reports a version other than the one this set was built from (or cannot tell). Throws
   * when the provider cannot be reached. Absent or empty when no remote source is used.
   */
  remote?: ReadonlyMap<string, (signal: AbortSignal) => Promise<boolean>>;
  /** Earliest expiry of a dynamic secret's lease (ms since epoch): reload before it. */
  leaseExpiresAt?: number;
}

/** Load every source and validate the result (required secrets, validators, gate). Throws LatchkeyError. */
export type LoadSecretSet = (reason: string, signal: AbortSignal) => Promise<SecretSet>;

/** Per-variable and per-source settings from the config file; the flags give the defaults. */
export interface ActionRules {
  byName?: Record<string, Action>;
  bySource?: Record<string, Action>;
  /** Poll interval per source scheme, ms (0 = do not poll that source). */
  pollBySource?: Record<string, number>;
}

/**
 * What a look compares: the env, plus secrets that are not in it (render-only). A
 * rendered secret and an env variable of the same name count once.
 */
export function comparedValues(set: SecretSet): Record<string, string> {
  const basis: Record<string, string> = { ...set.env };
  for (const [k, v] of Object.entries(set.secrets)) if (!(k in set.env)) basis[`secret:${k}`] = v;
  return basis;
}
