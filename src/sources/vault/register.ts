/**
 * What the vault:// provider adds at startup (cheap, no client code): its flags, its config
 * section, and its bootstrap credentials for the env layer's scrub list.
 *
 *   vault:
 *     address: https://vault.internal:8200
 *     namespace: team-a
 *     concurrency: 16
 *     keepLeases: false
 *     tls: { caCert: /etc/ssl/vault-ca.pem, caPath: DIR, clientCert: FILE, clientKey: FILE, serverName: vault.internal, skipVerify: false }
 *     auth: { method: approle, mount: approle, roleIdFile: FILE, secretIdFile: FILE, secretIdWrapped: true }
 */
import { registerSection, section } from "../../config/sections.ts";
import { checkKeys, expectBoolean, expectInt, expectObject, expectString, type FieldPath } from "../../config/validate.ts";
import { registerBootstrapCredentials } from "../../env/scrub.ts";
import { registerVaultFlags, VAULT_BOOTSTRAP_ENV } from "./flags.ts";

export type SectionValues = Record<string, string | boolean>;

const TOP: Record<string, string> = { address: "vault-addr", namespace: "vault-namespace", concurrency: "vault-concurrency", keepLeases: "vault-keep-leases" };
const TLS: Record<string, string> = { caCert: "vault-ca-cert", caPath: "vault-ca-path", clientCert: "vault-client-cert", clientKey: "vault-client-key", serverName: "vault-tls-server-name", skipVerify: "vault-skip-verify" };
const AUTH: Record<string, string> = { method: "vault-auth", mount: "vault-auth-mount", tokenFile: "vault-token-file", roleId: "vault-role-id", roleIdFile: "vault-role-id-file", secretIdFile: "vault-secret-id-file", secretIdWrapped: "vault-secret-id-wrapped", role: "vault-role", jwtFile: "vault-jwt-file" };
const BOOLS = new Set(["vault-keep-leases", "vault-skip-verify", "vault-secret-id-wrapped"]);

function fill(o: Record<string, unknown>, map: Record<string, string>, at: FieldPath, out: SectionValues, skip: string[] = []): void {
  checkKeys(o, [...Object.keys(map), ...skip], at);
  for (const [k, flag] of Object.entries(map)) {
    if (o[k] === undefined || o[k] === null) continue;
    if (BOOLS.has(flag)) out[flag] = expectBoolean(o[k], at.child(k));
    else if (flag === "vault-concurrency") out[flag] = String(expectInt(o[k], at.child(k), 1));
    else out[flag] = expectString(o[k], at.child(k));
  }
}

export function validateVaultSection(value: unknown, at: FieldPath): SectionValues {
  const o = expectObject(value, at);
  const out: SectionValues = {};
  fill(o, TOP, at, out, ["tls", "auth"]);
  if (o.tls !== undefined) fill(expectObject(o.tls, at.child("tls")), TLS, at.child("tls"), out);
  if (o.auth !== undefined) {
    const a = expectObject(o.auth, at.child("auth"));
    if ("token" in a || "secretId" in a) throw at.child("auth").fail("(hidden)", "credentials do not belong in the config file: use tokenFile / secretIdFile or VAULT_TOKEN / VAULT_SECRET_ID");
    fill(a, AUTH, at.child("auth"), out);
  }
  return out;
}

export function vaultSectionValues(): SectionValues {
  return section<SectionValues>("vault") ?? {};
}

let done = false;
export function registerVault(): void {
  if (done) return;
  done = true;
  registerVaultFlags();
  registerSection("vault", { help: "Vault address, namespace, TLS and auth method (vault:// references)", validate: validateVaultSection });
  registerBootstrapCredentials("vault", VAULT_BOOTSTRAP_ENV);
}
