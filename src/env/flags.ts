/**
 * The secrets and environment options, registered into the shared flag table (so each has a
 * flag, an env var and a config-file key, and shows in `latchkey help`).
 */
import { allFlags, registerFlags, registerGroup, type FlagDef } from "../cli/flags.ts";
import { registerCommandSubcommand } from "../cli/parse.ts";
import { registerSubcommandHelp } from "../cli/usage.ts";
import { FINGERPRINT_KEY_FILE_FLAG } from "../check/flags.ts";

export const DEFAULT_SECRETS_DIR = "/run/secrets";
export const DEFAULT_MAX_SIZE = "64KiB";

const SECRET_FLAGS: FlagDef[] = [
  { name: "config", type: "string", env: "LATCHKEY_CONFIG", value: "FILE", group: "config",
    help: "read settings from a YAML or JSON file (flags and env vars override it)" },
  { name: "secrets-dir", type: "string", multiple: true, env: "LATCHKEY_SECRETS_DIR", value: "DIR", default: DEFAULT_SECRETS_DIR, group: "secrets",
    help: "every file in DIR becomes a variable (repeatable; a missing default dir is fine, a missing given one is an error)" },
  { name: "env-name", type: "string", env: "LATCHKEY_ENV", value: "NAME", group: "secrets",
    help: "files in DIR/NAME/ override same-named files in DIR/ (per-environment secrets)" },
  { name: "prefix", type: "string", env: "LATCHKEY_PREFIX", value: "PREFIX", group: "secrets",
    help: "prepend PREFIX to every variable made from a secrets-dir file name" },
  { name: "map", type: "string", multiple: true, env: "LATCHKEY_MAP", value: "FILE=VAR", group: "secrets",
    help: "put secrets-dir file FILE into variable VAR exactly (no prefix, no case change; repeatable)" },
  { name: "keep-case", type: "boolean", env: "LATCHKEY_KEEP_CASE", group: "secrets",
    help: "do not upper-case variable names made from file names (- and . still become _)" },
  { name: "file-vars", type: "string", multiple: true, env: "LATCHKEY_FILE_VARS", value: "MODE", default: "auto", group: "secrets",
    help: "which NAME_FILE variables set NAME from a file: auto (files in a secrets dir), all, off, or a list of NAMEs" },
  { name: "keep-file-vars", type: "boolean", env: "LATCHKEY_KEEP_FILE_VARS", group: "secrets",
    help: "leave NAME_FILE variables in the app's environment (removed by default)" },
  // Named `--dotenv`, with `--env-file` as an alias: the Node runtime inside the executable also
  // reads `--env-file` before any latchkey code runs (src/cli/runtime-env-file.ts).
  { name: "dotenv", type: "string", multiple: true, env: "LATCHKEY_DOTENV", value: "FILE", group: "secrets",
    help: "read variables from a dotenv (.env) file (repeatable; later files win; secrets override them)" },
  { name: "dotenv-references", type: "boolean", env: "LATCHKEY_DOTENV_REFERENCES", group: "secrets",
    help: "resolve references (file://, vault://, aws-sm://) and NAME_FILE in --dotenv files; off by default: whoever can write the file could make root read any file or secret" },
  // The name users know from docker and compose.
  { name: "env-file", type: "string", multiple: true, env: "", value: "FILE", group: "secrets",
    help: "same as --dotenv; the Node runtime inside latchkey reads FILE first and exits 9 when it is missing (--dotenv: latchkey's own error, 66)" },
  { name: "trim", type: "string", env: "LATCHKEY_TRIM", value: "MODE", default: "newline", group: "secrets",
    help: "what to trim from the end of a secret: newline (one trailing \\n or \\r\\n), space (all trailing whitespace), none" },
  { name: "max-size", type: "string", env: "LATCHKEY_MAX_SIZE", value: "SIZE", default: DEFAULT_MAX_SIZE, group: "secrets",
    help: "largest secret accepted, e.g. 65536, 64KiB, 1MiB (at most 64MiB)" },
  { name: "base64", type: "string", multiple: true, env: "LATCHKEY_BASE64", value: "SECRET", group: "secrets",
    help: "SECRET (file or variable name) is binary: pass it base64-encoded, NUL bytes and non-UTF-8 allowed (repeatable)" },
  { name: "expand", type: "string", multiple: true, env: "LATCHKEY_EXPAND", value: "[SECRET=]FORMAT", group: "secrets",
    help: "fan a json or dotenv secret out into one variable per key; without SECRET= for every secret (repeatable)" },
  { name: "fetch-timeout", type: "string", env: "LATCHKEY_FETCH_TIMEOUT", value: "DURATION", default: "60s", group: "secrets",
    help: "give up fetching from secret managers (AWS, Vault) after DURATION, retries included; the app does not start" },
  { name: "on-conflict", type: "string", env: "LATCHKEY_ON_CONFLICT", value: "MODE", default: "error", group: "secrets",
    help: "a variable set by two secret sources: error, or precedence (the higher source wins, see docs)" },
  { name: "require", type: "string", multiple: true, env: "LATCHKEY_REQUIRE", value: "NAME[,NAME]", group: "secrets",
    help: "the app does not start unless these variables are set and non-empty" },
  { name: "ssh", type: "string", multiple: true, env: "LATCHKEY_SSH", value: "PATTERN", default: "ssh_*", group: "secrets",
    help: "secrets-dir files matching PATTERN are installed in the app user's ~/.ssh instead of the env (none = off)" },
  { name: "ssh-dir", type: "string", env: "LATCHKEY_SSH_DIR", value: "DIR", group: "secrets",
    help: "where SSH secrets go (default: ~/.ssh of the --user, or of latchkey's user)" },
  { name: "keep-env", type: "string", multiple: true, env: "LATCHKEY_KEEP_ENV", value: "NAME", group: "secrets",
    help: "pass these normally scrubbed variables (LATCHKEY_*, provider credentials) to the app; all = scrub nothing" },
  { name: "pass-scheme", type: "string", multiple: true, env: "LATCHKEY_PASS_SCHEME", value: "SCHEME", group: "secrets",
    help: "env values starting SCHEME:// are plain URLs, not secret references (adds to http, postgres, redis, ...)" },
];

const FORMAT_FLAG: FlagDef = { name: "format", type: "string", env: "LATCHKEY_FORMAT", value: "FORMAT", default: "text", group: "general",
  help: "output of check (and other reporting subcommands): text or json" };

const CHECK_GATE_FLAG: FlagDef = { name: "check-gate", type: "boolean", env: "LATCHKEY_CHECK_GATE", group: "general",
  help: "check: also run the startup gate (its --wait checks and --pre-start hooks run for real; needs -- COMMAND)" };

let done = false;
export function registerSecretFlags(): void {
  if (done) return;
  done = true;
  registerGroup("config", "Configuration file");
  registerFlags(SECRET_FLAGS);
  // The health subcommand may register the same --format; one definition serves both.
  if (!allFlags().some((f) => f.name === FORMAT_FLAG.name)) registerFlags([FORMAT_FLAG]);
  registerFlags([CHECK_GATE_FLAG, FINGERPRINT_KEY_FILE_FLAG]);
  registerCommandSubcommand("check");
  registerSubcommandHelp("latchkey check [options] [-- COMMAND [ARGS...]]",
    "dry run: load and validate secrets, list what the app would get (name, source, length, fingerprint; never values)");
}
