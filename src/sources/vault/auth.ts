/**
 * Getting and keeping a Vault token: the given token (looked up to learn its policies and TTL),
 * or a login with AppRole (optionally unwrapping a response-wrapped secret_id first),
 * Kubernetes or JWT. While latchkey runs, the token is renewed at about two thirds of its TTL;
 * when it can no longer be renewed (not renewable, or capped by its max TTL) latchkey logs in
 * again if it has the means. A token latchkey created is revoked on exit; a given one never is.
 */
import { readFileSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../../errors.ts";
import type { Logger } from "../../log/logger.ts";
import { redactor } from "../../log/redact.ts";
import { VaultHttpError, type VaultClient } from "./client.ts";
import type { AuthConfig } from "./options.ts";

export interface TokenInfo {
  policies: string[];
  /** Seconds, 0 = never expires. */
  ttl: number;
  renewable: boolean;
  createdByUs: boolean;
}

export async function authenticate(c: VaultClient, auth: AuthConfig, deadline: number, log: Logger): Promise<TokenInfo> {
  if (auth.method === "token") {
    redactor.add(auth.token);
    c.token = auth.token;
    let r: Record<string, unknown> | null;
    try {
      r = await c.call("GET", "auth/token/lookup-self", { deadline });
    } catch (e) {
      if (e instanceof VaultHttpError && e.status === 403) {
        throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, `the Vault token from ${auth.from} was refused by ${c.opts.addr}${c.opts.namespace ? ` (namespace ${c.opts.namespace})` : ""}: 403 permission denied (expired, revoked, unknown, or lookup-self not allowed)`);
      }
      throw wrap(e, "looking up the Vault token");
    }
    const d = (r?.data ?? {}) as { policies?: string[]; ttl?: number; renewable?: boolean };
    return { policies: d.policies ?? [], ttl: d.ttl ?? 0, renewable: !!d.renewable, createdByUs: false };
  }
  if (auth.method === "approle") {
    let secretId = auth.secretId;
    if (secretId) redactor.add(secretId);
    if (auth.wrapped) {
      if (!secretId) throw new LatchkeyError("vault-auth", ExitCode.CONFIG, "a wrapped secret_id was announced (--vault-secret-id-wrapped) but none was given (--vault-secret-id-file or VAULT_SECRET_ID)");
      let r: Record<string, unknown> | null;
      try {
        r = await c.call("POST", "sys/wrapping/unwrap", { auth: false, token: secretId, deadline });
      } catch (e) {
        if (e instanceof VaultHttpError) {
          // A wrapping token works once: a second unwrap means someone else saw the secret_id.
          throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, `unwrapping the AppRole secret_id failed (${e.message}): the wrapping token was already used, expired, or is not one — if you did not unwrap it, treat the secret_id as compromised`);
        }
        throw wrap(e, "unwrapping the AppRole secret_id");
      }
      secretId = String((r?.data as { secret_id?: string } | undefined)?.secret_id ?? "");
      if (!secretId) throw new LatchkeyError("vault-auth", ExitCode.NO_PERM, "the unwrapped response holds no secret_id");
      redactor.add(secretId);
    }
    return login(c, auth.mount, { role_id: auth.roleId, ...(secretId ? { secret_id: secretId } : {}) }, "AppRole", deadline);
  }
  let jwt: string;
  try {
    jwt = readFileSync(auth.jwtFile, "utf8").trim();
  } catch (e) {
    throw new LatchkeyError("vault-auth", ExitCode.CONFIG, `${auth.method} login: cannot read the JWT file '${auth.jwtFile}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!jwt) throw new LatchkeyError("vault-auth", ExitCode.CONFIG, `${auth.method} login: the JWT file '${auth.jwtFile}' is empty`);
  redactor.add(jwt);
  return login(c, auth.mount, { role: auth.role, jwt }, auth.method === "kubernetes" ? "Kubernetes" : "JWT", deadline);
}

async function login(c: VaultClient, mount: string, body: Record<string, string>, what: string, deadline: number): Promise<TokenInfo> {
  let r: Record<string, unknown> | null;
  try {
    r = await c.call("POST", `auth/${mount}/login`, { auth: false, body, deadline });
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

/** Renews the token at ~2/3 of its TTL; logs in again when renewal is no longer possible. */
export class TokenKeeper {
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  renewals = 0;
  logins = 0;

  private c: VaultClient;
  private auth: AuthConfig;
  info: TokenInfo;
  private log: Logger;

  // Plain fields, not parameter properties: bench/ runs these files with Node's type stripping.
  constructor(c: VaultClient, auth: AuthConfig, info: TokenInfo, log: Logger) {
    this.c = c;
    this.auth = auth;
    this.info = info;
    this.log = log;
  }

  start(): void {
    this.#schedule(this.info.ttl);
  }

  #schedule(ttlSec: number): void {
    if (this.#closed || ttlSec <= 0) return;
    const ms = Math.max(1000, (ttlSec * 1000 * 2) / 3);
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const deadline = Date.now() + 30_000;
    if (this.info.renewable) {
      try {
        const r = await this.c.call("POST", "auth/token/renew-self", { body: {}, deadline });
        const a = (r?.auth ?? {}) as { lease_duration?: number; renewable?: boolean };
        const ttl = a.lease_duration ?? 0;
        this.renewals++;
        this.log.debug("vault: token renewed", { ttl });
        // Capped by max TTL: renewing again would only shrink it; plan a fresh login instead.
        if (ttl < this.info.ttl / 2 && this.auth.method !== "token") {
          this.info = { ...this.info, ttl, renewable: false };
        } else this.info = { ...this.info, ttl };
        this.#schedule(ttl);
        return;
      } catch (e) {
        this.log.warn("vault: token renewal failed", { error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (this.auth.method === "token") {
      this.log.warn("vault: the given token cannot be renewed and latchkey cannot log in again; it will expire");
      return;
    }
    try {
      // The old token is left to expire, not revoked: revoking it would revoke the leases of
      // the credentials the app is using right now.
      const info = await authenticate(this.c, this.auth, deadline, this.log);
      this.logins++;
      this.info = info;
      this.log.info("vault: logged in again", { ttl: info.ttl });
      this.#schedule(info.ttl);
    } catch (e) {
      this.log.warn("vault: re-login failed; retrying in 30s", { error: e instanceof Error ? e.message : String(e) });
      this.#timer = setTimeout(() => void this.#tick(), 30_000);
      this.#timer.unref();
    }
  }

  stop(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
