/**
 * Vault options, resolved from latchkey's layered settings (flag ← LATCHKEY_VAULT_* ← config
 * file) with the standard VAULT_* variables as fallbacks. Everything that can be checked
 * without talking to Vault is checked here, with the option's origin in the message.
 */
import { readdirSync } from "node:fs";
import { FileReadError, readRegularFile } from "../file/read.ts";

/**
 * Token, role-id, secret-id and CA files: read non-blocking, regular files only (a FIFO
 * must not hang startup, see sources/file/read.ts), and small.
 */
const VAULT_FILE_MAX = 16 * 1024 * 1024;
import { join } from "node:path";
import { configError, usageError, type LatchkeyError } from "../../errors.ts";
import { os } from "../../platform/lazy.ts";

/** A bad value is a usage error when it came from the command line, a config error otherwise. */
function bad(from: string, message: string): LatchkeyError {
  return from.startsWith("--") ? usageError(`${from}: ${message}`) : configError(`${from}: ${message}`);
}
import type { Settings } from "../../config/settings.ts";
import type { Logger } from "../../log/logger.ts";

export type AuthMethod = "token" | "approle" | "kubernetes" | "jwt" | "cert";
export const AUTH_METHODS: readonly AuthMethod[] = ["token", "approle", "kubernetes", "jwt", "cert"];
export const K8S_SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export interface TlsOptions {
  ca?: Buffer[];
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  skipVerify: boolean;
}

/**
 * How latchkey logs in. Credentials given as files keep their path (`file`, `roleIdFile`,
 * `secretIdFile`, `jwtFile`): they are read again at each login, so that an orchestrator or a
 * Vault Agent sink can deliver a fresh one while latchkey runs.
 */
export type AuthConfig =
  | { method: "token"; token: string; file?: string; from: string }
  | { method: "approle"; mount: string; roleId: string; roleIdFile?: string; secretId?: string; secretIdFile?: string; wrapped: boolean; from: string }
  | { method: "kubernetes" | "jwt"; mount: string; role: string; jwtFile: string; from: string }
  /** TLS certificate auth: the credential is the client certificate of the TLS connection itself. */
  | { method: "cert"; mount: string; role?: string; from: string };

/**
 * One credential file, trimmed; `from` names the option for the message. Used at startup and
 * again at each login (the files can change while latchkey runs).
 */
export function readCredentialFile(path: string, from: string): string {
  try {
    return readRegularFile(path, VAULT_FILE_MAX).bytes.toString("utf8").trim();
  } catch (e) {
    throw configError(`${from}: cannot read '${path}': ${e instanceof FileReadError ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e))}`);
  }
}

/**
 * OpenBao's CLI reads BAO_* first and VAULT_* as its fallback; latchkey does the same, so a
 * BAO_* variable wins over its VAULT_* twin.
 */
export function envPick(env: NodeJS.ProcessEnv, vaultName: string): { value: string; from: string } | undefined {
  const bao = vaultName.replace(/^VAULT_/, "BAO_");
  for (const n of [bao, vaultName]) {
    const v = env[n];
    if (v !== undefined && v !== "") return { value: v, from: n };
  }
  return undefined;
}

export interface VaultOptions {
  addr: string;
  namespace?: string;
  tls: TlsOptions;
  auth: AuthConfig | null;
  concurrency: number;
  keepLeases: boolean;
}

/** A value with the name of where it came from, for messages. */
interface Found {
  value: string;
  from: string;
}

/**
 * Precedence: flag ← LATCHKEY_VAULT_* ← BAO_* ← VAULT_* ← config file `vault:` section ← default.
 * `section` maps flag names to the section's values (see register.ts).
 */
export function resolveVaultOptions(s: Settings, env: NodeJS.ProcessEnv, log: Logger, section: Record<string, string | boolean> = {}): VaultOptions {
  const pick = (flag: string, envName?: string): Found | undefined => {
    const o = s.origin(flag);
    if (o && o.kind !== "default") {
      const v = s.string(flag);
      if (v !== undefined && v !== "") return { value: v, from: o.label };
    }
    const e = envName ? envPick(env, envName) : undefined;
    if (e) return e;
    const sv = section[flag];
    if (typeof sv === "string" && sv !== "") return { value: sv, from: `config vault: (${flag})` };
    const d = s.string(flag);
    if (d !== undefined && d !== "") return { value: d, from: o?.label ?? flag };
    return undefined;
  };
  const bool = (flag: string): boolean => {
    const o = s.origin(flag);
    if (o && o.kind !== "default") return s.boolean(flag);
    return section[flag] === true;
  };
  const file = (f: Found | undefined): Buffer | undefined => {
    if (!f) return undefined;
    try {
      return readRegularFile(f.value, VAULT_FILE_MAX).bytes;
    } catch (e) {
      throw configError(`${f.from}: cannot read '${f.value}': ${e instanceof FileReadError ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e))}`);
    }
  };

  const addrF = pick("vault-addr", "VAULT_ADDR");
  const addr = addrF?.value ?? "https://127.0.0.1:8200";
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw bad(addrF?.from ?? "vault address", `invalid URL '${addr}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw configError(`${addrF?.from ?? "vault address"}: '${addr}' must start with http:// or https://`);

  const ca: Buffer[] = [];
  const caFile = file(pick("vault-ca-cert", "VAULT_CACERT"));
  if (caFile) ca.push(caFile);
  const caPath = pick("vault-ca-path", "VAULT_CAPATH");
  if (caPath) {
    let names: string[];
    try {
      names = readdirSync(caPath.value).filter((n) => /\.(pem|crt|cer)$/i.test(n)).sort();
    } catch (e) {
      throw configError(`${caPath.from}: cannot read directory '${caPath.value}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    for (const n of names) ca.push(file({ value: join(caPath.value, n), from: caPath.from })!);
    if (!names.length) throw configError(`${caPath.from}: no .pem/.crt files in '${caPath.value}'`);
  }
  const certF = pick("vault-client-cert", "VAULT_CLIENT_CERT");
  const keyF = pick("vault-client-key", "VAULT_CLIENT_KEY");
  if (!!certF !== !!keyF) throw configError(`${(certF ?? keyF)!.from}: a client certificate needs both --vault-client-cert and --vault-client-key`);
  const skipVerify = skip(s, env) || (!s.get("vault-skip-verify") && envPick(env, "VAULT_SKIP_VERIFY") === undefined && section["vault-skip-verify"] === true);
  if (skipVerify) log.warn("TLS verification of Vault's certificate is disabled (VAULT_SKIP_VERIFY / --vault-skip-verify): never do this in production");
  const serverName = pick("vault-tls-server-name", "VAULT_TLS_SERVER_NAME");
  const tls: TlsOptions = {
    skipVerify,
    ...(ca.length ? { ca } : {}),
    ...(certF ? { cert: file(certF)!, key: file(keyF)! } : {}),
    ...(serverName ? { servername: serverName.value } : {}),
  };

  const concF = pick("vault-concurrency");
  const concRaw = concF?.value ?? "16";
  const concurrency = Number(concRaw);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw bad(concF?.from ?? "vault-concurrency", `invalid value '${concRaw}': expected an integer from 1 to 256`);
  }
  const ns = pick("vault-namespace", "VAULT_NAMESPACE");
  const auth = resolveAuth(env, pick, bool);
  if (auth?.method === "cert") {
    // Cert auth logs in with the certificate the TLS handshake presents: without a client
    // certificate, or over plain http, the login could only fail at Vault, later and vaguer.
    if (!tls.cert) throw configError(`${auth.from}: TLS certificate auth needs a client certificate and key (--vault-client-cert and --vault-client-key, or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)`);
    if (url.protocol !== "https:") throw configError(`${auth.from}: TLS certificate auth needs an https:// Vault address, not '${addr}'`);
  }
  return {
    addr: addr.replace(/\/+$/, ""),
    ...(ns ? { namespace: ns.value.replace(/^\/+|\/+$/g, "") } : {}),
    tls,
    auth,
    concurrency,
    keepLeases: bool("vault-keep-leases"),
  };
}

/**
 * A Vault token is printable ASCII (`hvs.…`, `s.…`, a batch token). Anything else cannot go in
 * the X-Vault-Token header: fetch would refuse it and the error read "cannot reach Vault".
 * Say what is wrong, without the token.
 */
export function checkToken(token: string, from: string): string {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      throw configError(`${from}: the Vault token contains a ${c < 0x20 || c === 0x7f ? "control character" : c === 0x20 ? "space" : "non-ASCII character"}; a token is printable ASCII (check how it was written)`);
    }
  }
  return token;
}

function skip(s: Settings, env: NodeJS.ProcessEnv): boolean {
  if (s.get("vault-skip-verify")) return s.boolean("vault-skip-verify");
  const f = envPick(env, "VAULT_SKIP_VERIFY");
  if (!f) return false;
  const t = f.value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off"].includes(t)) return false;
  throw configError(`${f.from}: invalid value '${f.value}': expected true or false`);
}

function resolveAuth(env: NodeJS.ProcessEnv, pick: (f: string, e?: string) => Found | undefined, bool: (f: string) => boolean): AuthConfig | null {
  const methodF = pick("vault-auth", "VAULT_AUTH_METHOD");
  if (methodF && !(AUTH_METHODS as readonly string[]).includes(methodF.value)) {
    throw bad(methodF.from, `invalid value '${methodF.value}': expected one of: ${AUTH_METHODS.join(", ")}`);
  }
  const readText = (f: Found): string => readCredentialFile(f.value, f.from);
  const tokenFile = pick("vault-token-file");
  const tokenEnv = envPick(env, "VAULT_TOKEN");
  const roleIdFileF = pick("vault-role-id-file");
  const roleIdGiven = pick("vault-role-id", "VAULT_ROLE_ID");
  const roleIdF = roleIdGiven ?? (roleIdFileF ? { value: readText(roleIdFileF), from: roleIdFileF.from } : undefined);
  const role = pick("vault-role", "VAULT_ROLE");
  let method = methodF?.value as AuthMethod | undefined;
  if (!method) {
    if (tokenEnv || tokenFile) method = "token";
    else if (roleIdF) method = "approle";
    else if (role) method = pick("vault-jwt-file") ? "jwt" : "kubernetes";
  }
  const mount = pick("vault-auth-mount")?.value.replace(/^\/+|\/+$/g, "");
  switch (method) {
    case "token": {
      if (tokenFile) {
        const t = readText(tokenFile);
        if (!t) throw configError(`${tokenFile.from}: the token file '${tokenFile.value}' is empty`);
        return { method, token: checkToken(t, tokenFile.from), file: tokenFile.value, from: tokenFile.from };
      }
      if (tokenEnv) return { method, token: checkToken(tokenEnv.value.trim(), tokenEnv.from), from: tokenEnv.from };
      throw configError(`${methodF!.from}: token auth needs VAULT_TOKEN or --vault-token-file`);
    }
    case "approle": {
      if (!roleIdF) throw configError("AppRole auth needs a role_id: --vault-role-id, --vault-role-id-file or VAULT_ROLE_ID");
      const sidFile = pick("vault-secret-id-file");
      const secretId = sidFile ? readText(sidFile) : envPick(env, "VAULT_SECRET_ID")?.value;
      const roleIdFile = roleIdGiven ? undefined : roleIdFileF?.value;
      return {
        method, mount: mount ?? "approle", roleId: roleIdF.value, ...(roleIdFile ? { roleIdFile } : {}),
        ...(secretId ? { secretId } : {}), ...(sidFile ? { secretIdFile: sidFile.value } : {}),
        wrapped: bool("vault-secret-id-wrapped"), from: roleIdF.from,
      };
    }
    case "kubernetes":
    case "jwt": {
      if (!role) throw configError(`${method} auth needs a role: --vault-role or VAULT_ROLE`);
      const jwtF = pick("vault-jwt-file");
      if (method === "jwt" && !jwtF) throw configError("jwt auth needs --vault-jwt-file");
      return { method, mount: mount ?? method, role: role.value, jwtFile: jwtF?.value ?? K8S_SA_TOKEN, from: role.from };
    }
    case "cert":
      // Never chosen implicitly: a client certificate may be there only for a TLS listener
      // that requires one, with a token doing the authentication.
      return { method, mount: mount ?? "cert", ...(role ? { role: role.value } : {}), from: methodF!.from };
    default: {
      // The Vault CLI's own token helper file, for developers who ran `vault login`.
      const home = join(env.HOME ?? os().homedir(), ".vault-token");
      try {
        const t = readRegularFile(home, VAULT_FILE_MAX).bytes.toString("utf8").trim();
        if (t) return { method: "token", token: checkToken(t, home), from: home };
      } catch {
        // no token helper file
      }
      return null;
    }
  }
}
