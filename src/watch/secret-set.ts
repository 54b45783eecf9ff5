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
   * Cheap remote check: true when a provider reports a version other than the one this set
   * was built from (or cannot tell). Throws when a provider cannot be reached. Absent when
   * no remote source is used.
   */
  remoteChanged?: (signal: AbortSignal) => Promise<boolean>;
  /** Earliest expiry of a dynamic secret's lease (ms since epoch): reload before it. */
  leaseExpiresAt?: number;
}

/** Load every source and validate the result (required secrets, validators, gate). Throws LatchkeyError. */
export type LoadSecretSet = (reason: string, signal: AbortSignal) => Promise<SecretSet>;

/** Per-variable and per-source actions from the config file; the flag's action is the default. */
export interface ActionRules {
  byName?: Record<string, Action>;
  bySource?: Record<string, Action>;
}

/**
 * The basis for fingerprints: the env, plus secrets that are not in it (render-only). A
 * rendered secret and an env variable of the same name count once.
 */
export function fingerprintBasis(set: SecretSet): Record<string, string> {
  const basis: Record<string, string> = { ...set.env };
  for (const [k, v] of Object.entries(set.secrets)) if (!(k in set.env)) basis[`secret:${k}`] = v;
  return basis;
}
