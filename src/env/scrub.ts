/**
 * What latchkey removes from the app's environment: its own settings (LATCHKEY_*) and the
 * bootstrap credentials of the secret providers it used (AWS keys, a Vault token...). The
 * app should get the secrets, not the keys to the whole store. `--keep-env` opts out.
 *
 * Providers declare their credentials from their own module:
 *   registerBootstrapCredentials("vault", ["VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"]);
 * They are scrubbed only when a reference with that scheme was resolved in this run: an app
 * that uses AWS itself, with latchkey not talking to AWS, keeps its AWS_* variables.
 */
import { Settings } from "../config/settings.ts";

export interface Scrubbed {
  name: string;
  reason: string;
}

const credentials = new Map<string, Set<string>>();

export function registerBootstrapCredentials(scheme: string, names: readonly string[]): void {
  const set = credentials.get(scheme) ?? new Set<string>();
  for (const n of names) set.add(n);
  credentials.set(scheme, set);
}

export function scrubList(env: Record<string, string | undefined>, usedSchemes: ReadonlySet<string>, keep: Set<string> | "all"): Scrubbed[] {
  const own = new Set(Settings.envNames());
  const out: Scrubbed[] = [];
  for (const name of Object.keys(env).sort()) {
    let reason: string | undefined;
    if (own.has(name) || name.startsWith("LATCHKEY_")) reason = "latchkey setting";
    else {
      for (const scheme of usedSchemes) {
        if (credentials.get(scheme)?.has(name)) {
          reason = `${scheme}:// bootstrap credential`;
          break;
        }
      }
    }
    if (reason === undefined) continue;
    if (keep === "all" || keep.has(name)) continue;
    out.push({ name, reason });
  }
  return out;
}
