/**
 * Getting and keeping a Vault token: the given token (looked up to learn its policies and TTL),
 * or a login with AppRole (optionally unwrapping a response-wrapped secret_id first),
 * Kubernetes, JWT or a TLS client certificate. While latchkey runs, the token is renewed at about two thirds of its TTL;
 * when it can no longer be renewed (not renewable, or capped by its max TTL) latchkey logs in
 * again if it has the means. A token latchkey created is revoked on exit; a given one never is.
 */
import { ExitCode, LatchkeyError } from "../../errors.ts";
import type { Logger } from "../../log/logger.ts";
import { redactor } from "../../log/redact.ts";
import { VaultHttpError, type VaultClient } from "./client.ts";
import { checkToken, readCredentialFile, type AuthConfig } from "./options.ts";

export interface TokenInfo {
  policies: string[];
  /** Seconds, 0 = never expires. */
  ttl: number;
  renewable: boolean;
  createdByUs: boolean;
}

/** What a re-login must remember: the secret_id a single-use wrapping token gave. */
export interface LoginMemo {
  wrapToken?: string;
  secretId?: string;
}

/**
 * Logs in (or checks a given token). Credential files are read again at each call; a wrapped
 * secret_id is unwrapped only when the file or variable holds a wrapping token not seen
 * before: a wrapping token works once, and unwrapping the same one again at a re-login would
 * fail and raise a false "compromised" alarm.
 */
export async function authenticate(c: VaultClient, auth: AuthConfig, deadline: number, log: Logger, memo: LoginMemo = {}, retry = true): Promise<TokenInfo> {
  if (auth.method === "token") {
    const token = auth.file ? readCredentialFile(auth.file, auth.from) : auth.token;
    if (!token) throw new LatchkeyError("vault-auth", ExitCode.CONFIG, `${auth.from}: the token file '${auth.file}' is empty`);
    if (auth.file) checkToken(token, auth.from);
    redactor.add(token);
    let r: Record<string, unknown> | null;
    try {
      r = await c.call("GET", "auth/token/lookup-self", { deadline, token, retry });
    } catch (e) {
      if (e instanceof VaultHttpError && e.status === 403) {
        throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, `the Vault token from ${auth.from} was refused by ${c.opts.addr}${c.opts.namespace ? ` (namespace ${c.opts.namespace})` : ""}: 403 permission denied (expired, revoked, unknown, or lookup-self not allowed)`);
      }
      throw wrap(e, "looking up the Vault token");
    }
    c.token = token;
    const d = (r?.data ?? {}) as { policies?: string[]; ttl?: number; renewable?: boolean };
    return { policies: d.policies ?? [], ttl: d.ttl ?? 0, renewable: !!d.renewable, createdByUs: false };
  }
  if (auth.method === "approle") {
    const roleId = auth.roleIdFile ? readCredentialFile(auth.roleIdFile, auth.from) : auth.roleId;
    let secretId = auth.secretIdFile ? readCredentialFile(auth.secretIdFile, "--vault-secret-id-file") : auth.secretId;
    if (secretId) redactor.add(secretId);
    if (auth.wrapped) {
      if (!secretId) throw new LatchkeyError("vault-auth", ExitCode.CONFIG, "a wrapped secret_id was announced (--vault-secret-id-wrapped) but none was given (--vault-secret-id-file or VAULT_SECRET_ID)");
      if (memo.wrapToken === secretId && memo.secretId) secretId = memo.secretId;
      else {
        let r: Record<string, unknown> | null;
        try {
          r = await c.call("POST", "sys/wrapping/unwrap", { auth: false, token: secretId, deadline, retry });
        } catch (e) {
          if (e instanceof VaultHttpError) {
            // A wrapping token works once: a second unwrap means someone else saw the secret_id.
            throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, `unwrapping the AppRole secret_id failed (${e.message}): the wrapping token was already used, expired, or is not one — if you did not unwrap it, treat the secret_id as compromised`);
          }
          throw wrap(e, "unwrapping the AppRole secret_id");
        }
        const unwrapped = String((r?.data as { secret_id?: string } | undefined)?.secret_id ?? "");
        if (!unwrapped) throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, "the unwrapped response holds no secret_id");
        redactor.add(unwrapped);
        memo.wrapToken = secretId;
        memo.secretId = unwrapped;
        secretId = unwrapped;
      }
    }
    return login(c, auth.mount, { role_id: roleId, ...(secretId ? { secret_id: secretId } : {}) }, "AppRole", deadline, retry);
  }
  if (auth.method === "cert") {
    // The credential is the client certificate the transport presents in every TLS handshake
    // (--vault-client-cert/--vault-client-key); `name` picks one of the method's certificate
    // roles, else Vault tries them all.
    return login(c, auth.mount, auth.role ? { name: auth.role } : {}, "TLS certificate", deadline, retry);
  }
  // Read again at each login (a projected service-account token is rotated by the kubelet),
  // non-blocking and regular files only, as every credential file.
  const jwt = readCredentialFile(auth.jwtFile, `${auth.method} login: the JWT file`);
  if (!jwt) throw new LatchkeyError("vault-auth", ExitCode.CONFIG, `${auth.method} login: the JWT file '${auth.jwtFile}' is empty`);
  redactor.add(jwt);
  return login(c, auth.mount, { role: auth.role, jwt }, auth.method === "kubernetes" ? "Kubernetes" : "JWT", deadline, retry);
}

async function login(c: VaultClient, mount: string, body: Record<string, string>, what: string, deadline: number, retry: boolean): Promise<TokenInfo> {
  let r: Record<string, unknown> | null;
  try {
    r = await c.call("POST", `auth/${mount}/login`, { auth: false, body, deadline, retry });
  } catch (e) {
    if (e instanceof VaultHttpError) {
      throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, `${what} login at auth/${mount}/login on ${c.opts.addr} failed: ${e.message}`);
    }
    throw wrap(e, `${what} login`);
  }
  const a = (r?.auth ?? null) as { client_token?: string; policies?: string[]; lease_duration?: number; renewable?: boolean } | null;
  if (!a?.client_token) throw new LatchkeyError("vault-auth", ExitCode.TEMP_FAIL, `${what} login at auth/${mount}/login returned no token`);
  redactor.add(a.client_token);
  c.token = a.client_token;
  return { policies: a.policies ?? [], ttl: a.lease_duration ?? 0, renewable: !!a.renewable, createdByUs: true };
}

function wrap(e: unknown, what: string): LatchkeyError {
  if (e instanceof LatchkeyError) return e;
  return new LatchkeyError("vault", ExitCode.TEMP_FAIL, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** Node fires a timer longer than 2^31-1 ms (24.8 days) at once: longer waits are cut to it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** When to act on something that lives `ttlSec`: at two thirds of it, at least 1 s, within Node's timer range. */
export function renewDelay(ttlSec: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(1000, (ttlSec * 1000 * 2) / 3));
}

/** How often a token file is read again for a token that a Vault Agent sink rotated. */
export const TOKEN_FILE_CHECK_MS = 60_000;

export interface TokenEvents {
  /** latchkey now uses another token: leases obtained with the old one die with it. */
  newToken?(): void;
  /** The token cannot be renewed past `sec` seconds from now (its max TTL). */
  endsIn?(sec: number): void;
}

/**
 * Renews the token at ~2/3 of its TTL. When a renewal shows the token's max TTL (the TTL came
 * back shorter), renewing again is pointless: latchkey logs in again right then, while a third
 * of the old token's life remains for rotation to move the app onto leases obtained with the
 * new token (the old token's leases are revoked by Vault when it expires). A given token read
 * from a file is read again before it is renewed, at a renewal failure, and at least every
 * minute, so that a token a Vault Agent sink rotated is picked up.
 */
export class TokenKeeper {
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #renewAt = 0;
  /** When the current token expires (ms since epoch; Infinity = never). */
  #expiresAt = Infinity;
  #failures = 0;
  renewals = 0;
  logins = 0;

  private c: VaultClient;
  private auth: AuthConfig;
  info: TokenInfo;
  private log: Logger;
  private memo: LoginMemo;
  private events: TokenEvents;

  // Plain fields, not parameter properties: bench/ runs these files with Node's type stripping.
  constructor(c: VaultClient, auth: AuthConfig, info: TokenInfo, log: Logger, memo: LoginMemo = {}, events: TokenEvents = {}) {
    this.c = c;
    this.auth = auth;
    this.info = info;
    this.log = log;
    this.memo = memo;
    this.events = events;
  }

  start(): void {
    this.#plan(this.info.ttl);
  }

  get #tokenFile(): string | undefined {
    return this.auth.method === "token" ? this.auth.file : undefined;
  }

  /** Plan the next renewal for a token that lives `ttlSec` from now (0 = never expires). */
  #plan(ttlSec: number): void {
    this.#renewAt = ttlSec > 0 ? Date.now() + renewDelay(ttlSec) : Infinity;
    this.#expiresAt = ttlSec > 0 ? Date.now() + ttlSec * 1000 : Infinity;
    this.#arm();
  }

  /**
   * After a temporary failure (Vault sealed, down, throttling): the next attempt, one request
   * each, 1 s doubling up to 5 minutes, so an outage costs fewer requests than it takes to
   * notice that Vault is back. null once the token would have expired by then.
   */
  #retryIn(): number | null {
    this.#failures++;
    const ms = Math.min(300_000, 1000 * 2 ** Math.min(this.#failures - 1, 20));
    return Date.now() + ms < this.#expiresAt ? ms : null;
  }

  #arm(ms?: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    let wait = ms ?? this.#renewAt - Date.now();
    if (this.#tokenFile) wait = Math.min(wait, TOKEN_FILE_CHECK_MS);
    if (!Number.isFinite(wait)) return;
    this.#timer = setTimeout(() => void this.#tick(), Math.min(MAX_TIMER_MS, Math.max(0, wait)));
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (this.#closed) return;
    const deadline = Date.now() + 30_000;
    if (this.#tokenFile && (await this.#fromFile(deadline))) return;
    if (Date.now() < this.#renewAt - 50) {
      this.#arm();
      return;
    }
    if (this.info.renewable) {
      try {
        const r = await this.c.call("POST", "auth/token/renew-self", { body: {}, deadline, retry: false });
        const a = (r?.auth ?? {}) as { lease_duration?: number; renewable?: boolean };
        const ttl = a.lease_duration ?? 0;
        this.renewals++;
        this.#failures = 0;
        this.log.debug("vault: token renewed", { ttl });
        const capped = ttl < this.info.ttl / 2;
        if (capped) this.events.endsIn?.(ttl);
        if (capped && this.auth.method !== "token") {
          this.info = { ...this.info, ttl, renewable: false };
          await this.#login(deadline);
          return;
        }
        this.info = { ...this.info, ttl };
        this.#plan(ttl);
        return;
      } catch (e) {
        const next = temporary(e) ? this.#retryIn() : null;
        this.log.warn("vault: token renewal failed", { error: e instanceof Error ? e.message : String(e), ...(next !== null ? { retryInMs: next } : {}) });
        if (next !== null) {
          this.#arm(next);
          return;
        }
      }
    }
    // Not renewable (any more): it ends at its TTL, and the leases obtained with it too.
    if (Number.isFinite(this.#expiresAt)) this.events.endsIn?.(Math.max(0, Math.round((this.#expiresAt - Date.now()) / 1000)));
    if (this.auth.method === "token") {
      this.log.warn(this.#tokenFile
        ? "vault: the token cannot be renewed; latchkey keeps reading the token file for a new one"
        : "vault: the given token cannot be renewed and latchkey cannot log in again; it will expire");
      if (this.#tokenFile) this.#arm(Math.min(TOKEN_FILE_CHECK_MS, 5000));
      return;
    }
    await this.#login(deadline);
  }

  /** The token file holds another token: use it. True when it did (the next tick is armed). */
  async #fromFile(deadline: number): Promise<boolean> {
    let now: string;
    try {
      now = readCredentialFile(this.#tokenFile!, this.auth.from);
    } catch (e) {
      this.log.warn("vault: cannot read the token file again; keeping the current token", { error: e instanceof Error ? e.message : String(e) });
      return false;
    }
    if (!now || now === this.c.token) return false;
    try {
      this.info = await authenticate(this.c, this.auth, deadline, this.log, this.memo, false);
    } catch (e) {
      this.log.warn("vault: the token file holds a new token that Vault refuses; keeping the current one", { error: e instanceof Error ? e.message : String(e) });
      return false;
    }
    this.log.info("vault: using the new token from the token file", { ttl: this.info.ttl });
    this.events.newToken?.();
    this.#plan(this.info.ttl);
    return true;
  }

  async #login(deadline: number): Promise<void> {
    try {
      // The old token is left to expire, not revoked: revoking it would revoke the leases of
      // the credentials the app is using right now. newToken() has them replaced first.
      const info = await authenticate(this.c, this.auth, deadline, this.log, this.memo, false);
      this.logins++;
      this.#failures = 0;
      this.info = info;
      this.log.info("vault: logged in again", { ttl: info.ttl });
      this.events.newToken?.();
      this.#plan(info.ttl);
    } catch (e) {
      // The old token may be gone already: keep trying, one request per attempt, backing off.
      this.#failures++;
      const ms = Math.min(300_000, 1000 * 2 ** Math.min(this.#failures - 1, 20));
      this.log.warn("vault: re-login failed; retrying", { retryInMs: ms, error: e instanceof Error ? e.message : String(e) });
      this.#arm(ms);
    }
  }

  stop(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/** Vault down, sealed, throttling or unreachable: worth another try later, unlike a 403 or 400. */
export function temporary(e: unknown): boolean {
  if (e instanceof VaultHttpError) return e.status >= 500 || e.status === 429;
  return e instanceof LatchkeyError && e.exitCode === ExitCode.TEMP_FAIL;
}
