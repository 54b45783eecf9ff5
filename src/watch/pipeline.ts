/**
 * Adapter from the loading pipeline (src/env/prepare.ts: every source → the app's env) to
 * what rotation watches and compares (SecretSet). Rotation does not load anything itself: it
 * re-runs the same pipeline the first start ran — same sources, same precedence, same
 * validation — so a rotated set is exactly what a fresh start would have produced.
 */
import { join } from "node:path";
import { parseReference, sourceFor, type FetchedSecret } from "../sources/source.ts";
import type { Logger } from "../log/logger.ts";
import { prepareEnv, type PreparedEnv, type SecretVar } from "../env/prepare.ts";
import type { SecretsOptions } from "../env/options.ts";
import { validateSecrets } from "../env/required.ts";
import { buildChildEnv } from "../env/child-env.ts";
import type { Identity } from "../privileges/identity.ts";
import type { LaunchSpec } from "../launch/spec.ts";
import type { GateConfig } from "../gate/config.ts";
import { gateStages } from "../gate/stages.ts";
import { runGate } from "../gate/gate.ts";
import { recordSecretLoad } from "../status/freshness.ts";
import { remoteVersionChecks } from "./versions.ts";
import { cachedLeaseId, nextLeaseEnd } from "./source-cache.ts";
import type { LoadSecretSet, SecretSet } from "./secret-set.ts";

/** `NAME=scheme://...` / `sources.NAME=scheme://...` → the reference text. */
function refText(v: SecretVar): string | null {
  if (v.kind !== "reference" && v.kind !== "config") return null;
  const eq = v.source.indexOf("=");
  return eq === -1 ? null : v.source.slice(eq + 1);
}

/** The file a variable was read from, when it came from a file. */
function fileOf(v: SecretVar): string | null {
  if (v.kind === "dir" || v.kind === "env-file") return v.source;
  if (v.kind === "var-file") {
    const eq = v.source.indexOf("=");
    return eq === -1 ? null : v.source.slice(eq + 1);
  }
  const raw = refText(v);
  if (raw?.startsWith("file://")) {
    const ref = parseReference(raw, v.name, { checkScheme: false });
    return ref ? ref.locator : null;
  }
  return null;
}

export function secretSetFrom(prepared: Pick<PreparedEnv, "secrets">, childEnv: Record<string, string>, opts: Pick<SecretsOptions, "dirs" | "envFiles" | "envName">, log: Logger): SecretSet {
  const files = new Set<string>();
  // Directories are watched even when absent or empty: a secret added later is a change too
  // (and so is one added to the --env-name subdirectory).
  for (const d of opts.dirs) {
    files.add(d.path);
    if (opts.envName) files.add(join(d.path, opts.envName));
  }
  for (const f of opts.envFiles) files.add(f);
  const secrets: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const fetched: FetchedSecret[] = [];
  for (const v of prepared.secrets) {
    if (v.kind !== "env-file") secrets[v.name] = v.value;
    const file = fileOf(v);
    if (file) files.add(file);
    const raw = refText(v);
    const ref = raw ? parseReference(raw, v.name, { checkScheme: false }) : null;
    origins[v.name] = ref ? ref.scheme : "file";
    const version = v.version ?? (raw ? cachedLeaseId(raw) : undefined);
    if (ref && ref.scheme !== "file") fetched.push({ ref, value: Buffer.alloc(0), ...(version !== undefined ? { version } : {}) });
  }
  const remote = remoteVersionChecks(fetched, sourceFor, log);
  const leaseEnd = nextLeaseEnd();
  return {
    env: childEnv,
    secrets,
    files: [...files].sort(),
    origins,
    ...(remote.size > 0 ? { remote } : {}),
    ...(leaseEnd !== undefined ? { leaseExpiresAt: leaseEnd } : {}),
  };
}

export interface PipelineDeps {
  secrets: SecretsOptions;
  identity?: Identity;
  log: Logger;
  /** --template-only: variables kept out of the app's environment (templates see them). */
  hide?: readonly string[];
}

/**
 * Rotation's loader: the same steps as startup — every source (prepareEnv is all or nothing),
 * required secrets and validators, the app's env — into a new candidate set. The status
 * endpoint's per-source freshness is updated from here.
 */
export function pipelineLoader(d: PipelineDeps): LoadSecretSet {
  let schemes: string[] = [];
  return async () => {
    let set: SecretSet;
    try {
      const prepared = await prepareEnv(process.env, d.secrets, d.log);
      validateSecrets(prepared, d.secrets);
      const env = buildChildEnv(process.env, d.identity, prepared);
      for (const n of d.hide ?? []) delete env[n];
      set = secretSetFrom(prepared, env, d.secrets, d.log);
    } catch (e) {
      for (const s of schemes.length ? schemes : ["file"]) recordSecretLoad(s, false, e instanceof Error ? e.message : String(e));
      throw e;
    }
    schemes = [...new Set(Object.values(set.origins ?? {}))];
    for (const s of schemes) recordSecretLoad(s, true);
    return set;
  };
}

/**
 * The startup gate for a changed set, before it is acted on: dependency waits and pre-start
 * hooks run with the new environment (a hook that checks the new DB password can veto it).
 * Only after the content compare found a change, so hooks never run on an idle poll.
 */
export function gateVetter(gateConfig: GateConfig, spec: LaunchSpec, stopTimeoutMs: number, log: Logger): ((set: SecretSet, signal: AbortSignal) => Promise<void>) | undefined {
  if (gateStages(gateConfig, spec, stopTimeoutMs).length === 0) return undefined;
  return async (set, signal) => {
    // The supervisor owns the stop signals now; a stop cuts the gate short through `signal`.
    const outcome = await runGate(gateStages(gateConfig, { ...spec, env: set.env }, stopTimeoutMs), log, undefined, { holdSignals: false, signal });
    outcome.release();
  };
}
