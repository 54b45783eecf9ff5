/**
 * The `VAR_FILE` convention of the official Docker images (postgres, mysql, mariadb, ...):
 * `POSTGRES_PASSWORD_FILE=/run/secrets/pg` sets `POSTGRES_PASSWORD` from the file. As their
 * `file_env` does, both set (non-empty) is an error, and an empty NAME_FILE is ignored.
 *
 * Which NAME_FILE variables are secrets? Many *_FILE variables are paths by design:
 * replacing SSL_CERT_FILE or CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE with a CA bundle's text, or
 * AWS_WEB_IDENTITY_TOKEN_FILE with the token, would break the programs that read them (and a
 * CA bundle is larger than the secret size limit, so the app would not even start). So:
 *   auto  (default) NAME_FILE whose file is in a secrets dir (/run/secrets, /var/run/secrets,
 *         --secrets-dir): where Docker, Swarm and Kubernetes put secrets;
 *   all   every NAME_FILE except the well-known path variables below;
 *   off   none;
 *   NAMES exactly these variables (POSTGRES_PASSWORD,...), wherever their file is.
 *
 * A NAME_FILE read is a file:// reference by another spelling: same canonical-path rule, same
 * reference policy on the real path (sources/file/index.ts readFileSecret).
 */
import { existsSync, realpathSync } from "node:fs";
import { resolve, sep } from "node:path";
import { Settings } from "../config/settings.ts";
import { configError } from "../errors.ts";
import { checkFilePath } from "../sources/file/index.ts";
import { isVarName } from "./naming.ts";
import type { SecretsOptions } from "./options.ts";

export const PATH_VARIABLES: ReadonlySet<string> = new Set([
  "SSL_CERT_FILE", "SSL_KEY_FILE", "PIP_CONFIG_FILE", "COMPOSE_FILE", "ENV_FILE", "DOTENV_FILE", "CONFIG_FILE",
  "LOG_FILE", "PID_FILE", "HISTFILE", "GIT_CONFIG_FILE", "TF_CLI_CONFIG_FILE", "PGSERVICEFILE", "PGPASSFILE",
  "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "GOOGLE_GHA_CREDS_PATH_FILE", "BUNDLE_GEMFILE", "DOCKER_CONFIG_FILE", "KUBE_CONFIG_FILE", "NPM_CONFIG_USERCONFIG_FILE",
  "VAULT_TOKEN_FILE", "CURL_CA_BUNDLE_FILE", "NODE_EXTRA_CA_CERTS_FILE", "ZDOTDIR_FILE",
]);

export interface FileVar {
  /** The variable to set, e.g. POSTGRES_PASSWORD. */
  name: string;
  /** The NAME_FILE variable, e.g. POSTGRES_PASSWORD_FILE. */
  fileVar: string;
  path: string;
}

/** latchkey's own settings are never secrets or references (LATCHKEY_WAIT=file:///... is a gate check). */
export function isOwnSetting(name: string): boolean {
  return name.startsWith("LATCHKEY_") || (ownNames ??= new Set(Settings.envNames())).has(name);
}
let ownNames: ReadonlySet<string> | undefined;

export const SECRET_PLACES = ["/run/secrets", "/var/run/secrets"];

export interface VarFileScan {
  use: FileVar[];
  /** NAME_FILE variables left alone under `auto` because their file is outside the secrets dirs. */
  ignored: string[];
}

export function varFileCandidates(env: Record<string, string>, opts: Pick<SecretsOptions, "fileVars" | "dirs">): VarFileScan {
  const out: FileVar[] = [];
  const ignored: string[] = [];
  if (opts.fileVars === "off") return { use: out, ignored };
  // Resolved on the first candidate: realpath of every secret place costs ~0.5 ms of a start
  // whose environment has no *_FILE variable at all (measured here).
  let places: Places | undefined;
  for (const fileVar of Object.keys(env).sort()) {
    if (!fileVar.endsWith("_FILE")) continue;
    const name = fileVar.slice(0, -"_FILE".length);
    if (!isVarName(name) || isOwnSetting(fileVar)) continue;
    if (opts.fileVars === "all" ? PATH_VARIABLES.has(fileVar) : opts.fileVars instanceof Set && !opts.fileVars.has(name)) continue;
    const path = env[fileVar]!;
    if (path === "") continue;
    if (opts.fileVars === "auto" && !inside(path, (places ??= secretPlaces(opts.dirs.map((d) => d.path))))) {
      ignored.push(fileVar);
      continue;
    }
    if (env[name] !== undefined && env[name] !== "") {
      throw configError(`both ${name} and ${fileVar} are set; set only one (${fileVar} names a file to read ${name} from)`);
    }
    // The rule of file:// references: a policy must see the path that is read.
    checkFilePath(path, `${fileVar}=${path}`);
    out.push({ name, fileVar, path });
  }
  return { use: out, ignored };
}

interface Places {
  paths: string[];
  /** Is any of them there? If none is, no file's real path can lie inside one. */
  anyThere: boolean;
}

function secretPlaces(dirs: string[]): Places {
  const out = new Set<string>();
  let anyThere = false;
  for (const d of [...SECRET_PLACES, ...dirs]) {
    out.add(resolve(d));
    const real = realpathIfThere(d); // absent: only its spelling can match
    if (real !== undefined) {
      out.add(real);
      anyThere = true;
    }
  }
  return { paths: [...out], anyThere };
}

function inside(path: string, places: Places): boolean {
  const candidates = [resolve(path)];
  // A real path names existing directories only; without a secret place there, the realpath
  // (~0.03 ms per variable, measured here) cannot change the answer.
  const real = places.anyThere ? realpathIfThere(path) : undefined; // a missing file is reported when it is read
  if (real !== undefined) candidates.push(real);
  return candidates.some((p) => places.paths.some((d) => p.startsWith(d.endsWith(sep) ? d : d + sep)));
}

/**
 * One realpath(3) (the JS realpathSync lstats every component), after an access(2) that does
 * not throw: /run/secrets is absent outside Docker and Kubernetes, and the exception realpath
 * throws for it costs more than the check.
 */
function realpathIfThere(p: string): string | undefined {
  if (!existsSync(p)) return undefined;
  try {
    return realpathSync.native(p);
  } catch {
    return undefined; // gone meanwhile, or a loop
  }
}
