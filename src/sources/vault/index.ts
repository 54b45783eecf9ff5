/**
 * The `vault://` source. Loaded only when a vault:// reference is used (see schemes.ts).
 *
 *   vault://secret/data/app#api_key        KV v2 (API path), key api_key
 *   vault://secret/app?version=3#api_key   KV v2 (mount-relative path), version 3
 *   vault://kv1/app#password               KV v1
 *   vault://database/creds/app             dynamic credentials (lease renewed, revoked on exit)
 *
 * One authentication per run, one mount preflight per mount, reads in parallel (bounded), all
 * or nothing: if one reference fails, the error names every failed reference and no value is
 * returned.
 */
import { ExitCode, LatchkeyError } from "../../errors.ts";
import { Settings } from "../../config/settings.ts";
import type { Logger } from "../../log/logger.ts";
import { redactor } from "../../log/redact.ts";
import { activePolicies } from "../../policy/active.ts";
import { checkReference, checkWrite } from "../../policy/policy.ts";
import { getRunSettings, type FetchedSecret, type Reference, type SecretSource, type SourceContext } from "../source.ts";
import { authenticate, TokenKeeper, type LoginMemo, type TokenInfo } from "./auth.ts";
import { VaultClient, VaultHttpError } from "./client.ts";
import { LeaseKeeper } from "./leases.ts";
import { resolveVaultOptions } from "./options.ts";
import { apiPath, checkParams, encodePath, kvVersion, MountCache, readSecret } from "./read.ts";
import { vaultSectionValues } from "./register.ts";
import { isWriteLease, isWriteReference, plannedWrite, writesPlannedOnly, writeBody, writeKey, writeSecret } from "./write.ts";

export interface VaultSource extends SecretSource {
  /** For tests and benchmarks: the client (request counter) once fetch has run. */
  readonly client: VaultClient | null;
  readonly tokens: TokenKeeper | null;
  readonly leases: LeaseKeeper | null;
  close(): Promise<void>;
  versions(refs: readonly Reference[], ctx: SourceContext): Promise<(string | undefined)[]>;
}

export function createVaultSource(env: NodeJS.ProcessEnv = process.env): VaultSource {
  let client: VaultClient | null = null;
  let info: TokenInfo | null = null;
  let tokens: TokenKeeper | null = null;
  let leases: LeaseKeeper | null = null;
  let keepLeases = false;
  let log: Logger | null = null;
  const mounts = new MountCache();
  let closed = false;

  let starting: Promise<VaultClient> | null = null;
  /** One login per source, even when fetches overlap (a second login would leak a token). */
  function ensureClient(ctx: SourceContext, first: Reference): Promise<VaultClient> {
    if (client) return Promise.resolve(client);
    starting ??= start(ctx, first).finally(() => (starting = null));
    return starting;
  }

  async function start(ctx: SourceContext, first: Reference): Promise<VaultClient> {
    const settings = ctx.settings ?? getRunSettings() ?? new Settings({ flags: {}, env });
    const opts = resolveVaultOptions(settings, env, ctx.log, vaultSectionValues());
    if (!opts.auth) {
      throw new LatchkeyError("vault-auth", ExitCode.CONFIG,
        `${first.raw}: no Vault credentials: set VAULT_TOKEN or --vault-token-file, or an auth method (--vault-auth approle|kubernetes|jwt with its role, or cert with a client certificate)`);
    }
    const c = new VaultClient(opts, ctx.log);
    const memo: LoginMemo = {};
    info = await authenticate(c, opts.auth, ctx.deadline, ctx.log, memo);
    client = c;
    log = ctx.log;
    keepLeases = opts.keepLeases;
    const lk = new LeaseKeeper(c, ctx.log);
    leases = lk;
    tokens = new TokenKeeper(c, opts.auth, info, ctx.log, memo, {
      // Vault revokes a token's leases when the token expires: before that, the credentials
      // the app holds must be read again under the new token (rotation's action follows).
      newToken: () => lk.tokenReplaced(),
      endsIn: (sec) => lk.warnIfOutlived(sec),
    });
    tokens.start();
    return c;
  }

  const source: VaultSource = {
    scheme: "vault",
    get client() {
      return client;
    },
    get tokens() {
      return tokens;
    },
    get leases() {
      return leases;
    },
    async fetch(refs: readonly Reference[], ctx: SourceContext): Promise<FetchedSecret[]> {
      if (refs.length === 0) return [];
      if (closed) throw new LatchkeyError("internal", ExitCode.INTERNAL, "vault source used after close");
      const settings = ctx.settings ?? getRunSettings() ?? new Settings({ flags: {}, env });
      const policies = activePolicies(settings);
      // Writes are checked before the login: a refused write makes no request at all, and
      // `check` (writesPlannedOnly) must not mint a certificate or overwrite anything.
      for (const ref of refs) {
        if (!isWriteReference(ref)) continue;
        const path = ref.locator.replace(/^\/+|\/+$/g, "");
        if (path === "") throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: empty Vault path`);
        writeBody(ref);
        if (policies.length) checkWrite(policies, ref, path);
      }
      if (writesPlannedOnly() && refs.some(isWriteReference)) {
        const planned = refs.filter(isWriteReference).map((ref) => plannedWrite(ref, ref.locator.replace(/^\/+|\/+$/g, "")));
        const reads = refs.filter((ref) => !isWriteReference(ref));
        const got = reads.length ? await source.fetch(reads, ctx) : [];
        return [...got, ...planned];
      }
      let c: VaultClient;
      try {
        c = await ensureClient(ctx, refs[0]!);
      } catch (e) {
        // Every failure names a reference: login and option problems concern all of them.
        const err = e instanceof LatchkeyError ? e : new LatchkeyError("vault", ExitCode.TEMP_FAIL, e instanceof Error ? e.message : String(e));
        if (err.message.startsWith(refs[0]!.raw)) throw err;
        const which = `${refs[0]!.raw}${refs.length > 1 ? ` (and ${refs.length - 1} more vault:// references)` : ""}`;
        throw new LatchkeyError(err.code, err.exitCode, `${which}: ${err.message}`, { cause: err });
      }
      const pols = tokens?.info.policies ?? info?.policies ?? [];
      // One read per path and version: `#username` and `#password` of database/creds/app must
      // come from the same read (one lease, one matching pair), and KV paths are read once.
      const reads = new Map<string, Promise<FetchedSecret>>();
      const results = await Promise.allSettled(refs.map(async (ref) => {
        const path = ref.locator.replace(/^\/+|\/+$/g, "");
        if (path === "") throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: empty Vault path`);
        let key: string;
        let start: () => Promise<FetchedSecret>;
        if (isWriteReference(ref)) {
          // A write (pki/issue/ROLE...): no mount lookup, the path is the API path (write.ts).
          const body = writeBody(ref); // checked against the policy above, before the login
          key = writeKey(path, body);
          start = () => writeSecret(c, ref, path, body, ctx.deadline, pols);
        } else {
          const m = await mounts.lookup(c, path, ctx.deadline, pols, ref);
          const version = checkParams(ref, m);
          const api = apiPath(ref, path, m);
          if (policies.length) checkReference(policies, ref, [path, api]);
          key = `${api}?${version ?? ""}`;
          start = () => readSecret(c, ref, api, m, version, ctx.deadline, pols);
        }
        let read = reads.get(key);
        if (!read) {
          read = start();
          reads.set(key, read);
        }
        let got: FetchedSecret;
        try {
          got = await read;
        } catch (e) {
          // The shared read's error names the first reference; name this one.
          if (e instanceof LatchkeyError && !e.message.startsWith(ref.raw)) {
            throw new LatchkeyError(e.code, e.exitCode, `${ref.raw}: ${e.message.slice(e.message.indexOf(": ") + 2)}`);
          }
          throw e;
        }
        redactor.add(got.value.toString("utf8"));
        return { ...got, ref };
      }));
      const failed = results.flatMap((r, i) => (r.status === "rejected" ? [{ ref: refs[i]!, err: r.reason as unknown }] : []));
      const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      if (failed.length) {
        // Leases obtained for the successful reads are useless now: the app will not start.
        for (const id of new Set(ok.flatMap((s) => (s.lease && !isWriteLease(s.lease.id) ? [s.lease.id] : [])))) await leases?.revokeOne(id).catch(() => undefined);
        throw combineFailures(failed, refs.length);
      }
      for (const s of ok) if (s.lease && !isWriteLease(s.lease.id)) leases!.track(s.ref.raw, s.lease);
      // The app has its secrets: from now on a failed request is reported at once, and the
      // caller (rotation's poller, with its backoff) decides when to ask again.
      c.retryUntilDeadline = false;
      return ok;
    },
    async versions(refs: readonly Reference[], ctx: SourceContext): Promise<(string | undefined)[]> {
      if (refs.length === 0) return [];
      const c = client ?? (await ensureClient(ctx, refs[0]!));
      const pols = tokens?.info.policies ?? info?.policies ?? [];
      return Promise.all(refs.map(async (ref) => {
        // A write has no version to ask for: it is held until its stand-in lease ends (write.ts).
        if (isWriteReference(ref)) return undefined;
        const path = ref.locator.replace(/^\/+|\/+$/g, "");
        const m = await mounts.lookup(c, path, ctx.deadline, pols, ref);
        const version = checkParams(ref, m);
        if (m.kv === 1) return undefined;
        if (m.kv === 0) return leases?.stateOf(ref.raw);
        if (version) return String(version);
        const rel = apiPath(ref, path, m).slice(m.path.length + "data/".length);
        try {
          const r = await c.call("GET", `${encodePath(`${m.path}metadata/${rel}`)}`, { deadline: ctx.deadline });
          const d = (r?.data ?? {}) as { current_version?: number; versions?: Record<string, { created_time?: string }> };
          const cur = d.current_version;
          return cur === undefined ? undefined : kvVersion(cur, d.versions?.[String(cur)]?.created_time);
        } catch (e) {
          // Reading metadata needs its own grant; without it, rotation re-fetches and compares.
          if (e instanceof VaultHttpError && e.status === 403) return undefined;
          if (e instanceof VaultHttpError) throw new LatchkeyError("vault", ExitCode.TEMP_FAIL, `${ref.raw}: reading metadata failed: ${e.message}`);
          if (e instanceof LatchkeyError && !e.message.startsWith(ref.raw)) throw new LatchkeyError(e.code, e.exitCode, `${ref.raw}: ${e.message}`);
          throw e;
        }
      }));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      tokens?.stop();
      leases?.stop();
      if (client && !keepLeases) {
        const deadline = Date.now() + 3000; // the container runtime's stop grace period is ticking
        if (info?.createdByUs) {
          // revoke-self also revokes every lease obtained with the token (dynamic credentials).
          await client.call("POST", "auth/token/revoke-self", { body: {}, deadline }).then(
            () => log?.debug("vault: token revoked"),
            (e: unknown) => log?.warn("vault: could not revoke latchkey's token", { error: e instanceof Error ? e.message : String(e) }),
          );
        } else await leases?.revokeAll(deadline);
      }
      client?.close();
    },
  };
  return source;
}

/** One error for an all-or-nothing batch: the first failure in full, the others by reference. */
export function combineFailures(failed: { ref: Reference; err: unknown }[], total: number): LatchkeyError {
  const lk = failed.map(({ ref, err }) => (err instanceof LatchkeyError ? err : new LatchkeyError("vault", ExitCode.TEMP_FAIL, `${ref.raw}: ${err instanceof Error ? err.message : String(err)}`)));
  const first = lk[0]!;
  if (lk.length === 1) return first;
  const others = failed.slice(1).map((f) => f.ref.raw);
  const shown = others.slice(0, 5).join(", ") + (others.length > 5 ? `, ... (${others.length - 5} more)` : "");
  return new LatchkeyError(first.code, first.exitCode, `${first.message} (and ${others.length} more of ${total} failed: ${shown})`);
}
