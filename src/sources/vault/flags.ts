/**
 * Vault options as flags (each with a LATCHKEY_VAULT_* env var and a config-file key), plus the
 * standard VAULT_* variables the Vault CLI reads, which are honoured as fallbacks. Loaded at
 * startup (it is tiny); the client code behind the `vault://` scheme is not.
 */
import { registerFlags, registerGroup, type FlagDef } from "../../cli/flags.ts";

export const VAULT_FLAGS: readonly FlagDef[] = [
  { name: "vault-addr", type: "string", env: "LATCHKEY_VAULT_ADDR", value: "URL", group: "vault",
    help: "Vault address (else VAULT_ADDR; default https://127.0.0.1:8200)" },
  { name: "vault-namespace", type: "string", env: "LATCHKEY_VAULT_NAMESPACE", value: "NS", group: "vault",
    help: "Vault Enterprise/HCP namespace, sent as X-Vault-Namespace (else VAULT_NAMESPACE)" },
  { name: "vault-ca-cert", type: "string", env: "LATCHKEY_VAULT_CA_CERT", value: "FILE", group: "vault",
    help: "PEM CA bundle to verify Vault's certificate (else VAULT_CACERT)" },
  { name: "vault-ca-path", type: "string", env: "LATCHKEY_VAULT_CA_PATH", value: "DIR", group: "vault",
    help: "directory of PEM CA certificates (else VAULT_CAPATH)" },
  { name: "vault-client-cert", type: "string", env: "LATCHKEY_VAULT_CLIENT_CERT", value: "FILE", group: "vault",
    help: "PEM client certificate for TLS client auth, and the credential of --vault-auth cert (else VAULT_CLIENT_CERT)" },
  { name: "vault-client-key", type: "string", env: "LATCHKEY_VAULT_CLIENT_KEY", value: "FILE", group: "vault",
    help: "PEM client key (else VAULT_CLIENT_KEY)" },
  { name: "vault-tls-server-name", type: "string", env: "LATCHKEY_VAULT_TLS_SERVER_NAME", value: "NAME", group: "vault",
    help: "name to verify in Vault's certificate, and SNI (else VAULT_TLS_SERVER_NAME)" },
  { name: "vault-skip-verify", type: "boolean", env: "LATCHKEY_VAULT_SKIP_VERIFY", group: "vault",
    help: "do not verify Vault's TLS certificate (else VAULT_SKIP_VERIFY); logged as a warning: never in production" },
  { name: "vault-auth", type: "string", env: "LATCHKEY_VAULT_AUTH", value: "METHOD", group: "vault",
    help: "token, approle, kubernetes, jwt or cert (TLS client certificate; never the default) (default: token if one is given, else approle if a role id is given, else kubernetes/jwt if a role is given)" },
  { name: "vault-auth-mount", type: "string", env: "LATCHKEY_VAULT_AUTH_MOUNT", value: "PATH", group: "vault",
    help: "where the auth method is mounted (default: approle, kubernetes, jwt or cert)" },
  { name: "vault-token-file", type: "string", env: "LATCHKEY_VAULT_TOKEN_FILE", value: "FILE", group: "vault",
    help: "read the Vault token from FILE (e.g. a Vault Agent sink); VAULT_TOKEN also works" },
  { name: "vault-role-id", type: "string", env: "LATCHKEY_VAULT_ROLE_ID", value: "ID", group: "vault",
    help: "AppRole role_id (else VAULT_ROLE_ID)" },
  { name: "vault-role-id-file", type: "string", env: "LATCHKEY_VAULT_ROLE_ID_FILE", value: "FILE", group: "vault",
    help: "read the AppRole role_id from FILE" },
  { name: "vault-secret-id-file", type: "string", env: "LATCHKEY_VAULT_SECRET_ID_FILE", value: "FILE", group: "vault",
    help: "read the AppRole secret_id from FILE (VAULT_SECRET_ID also works)" },
  { name: "vault-secret-id-wrapped", type: "boolean", env: "LATCHKEY_VAULT_SECRET_ID_WRAPPED", group: "vault",
    help: "the secret_id is a response-wrapping token: unwrap it (sys/wrapping/unwrap) before login" },
  { name: "vault-role", type: "string", env: "LATCHKEY_VAULT_ROLE", value: "ROLE", group: "vault",
    help: "role for Kubernetes or JWT/OIDC login; with --vault-auth cert, the certificate role's name (optional: else Vault tries each)" },
  { name: "vault-jwt-file", type: "string", env: "LATCHKEY_VAULT_JWT_FILE", value: "FILE", group: "vault",
    help: "JWT for login (default for kubernetes: /var/run/secrets/kubernetes.io/serviceaccount/token)" },
  { name: "vault-concurrency", type: "string", env: "LATCHKEY_VAULT_CONCURRENCY", value: "N", default: "16", group: "vault", range: { min: 1, max: 256 },
    help: "at most N Vault requests in flight" },
  { name: "vault-keep-leases", type: "boolean", env: "LATCHKEY_VAULT_KEEP_LEASES", group: "vault",
    help: "on exit, do not revoke the leases and the token latchkey obtained (they expire by TTL)" },
];

/**
 * Variables that configure latchkey's own access to Vault. The env layer removes them from
 * the app's environment unless asked to pass them (a leaked bootstrap credential is worse than
 * a leaked secret: it opens every secret the role can read).
 */
export const VAULT_BOOTSTRAP_ENV: readonly string[] = ["VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "BAO_TOKEN", "BAO_ROLE_ID", "BAO_SECRET_ID"];

let registered = false;
export function registerVaultFlags(): void {
  if (registered) return;
  registered = true;
  registerGroup("vault", "HashiCorp Vault (vault:// references)");
  registerFlags(VAULT_FLAGS);
}
