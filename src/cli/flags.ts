/**
 * Every option latchkey has, as data: the flag, its env var, its config-file key, and its
 * help line. Parsing, `--help`, the README table and config-file validation all read this
 * table, so a flag cannot exist in one place and be missing from another.
 */
export type FlagType = "boolean" | "string";

export interface FlagDef {
  /** Long flag name without dashes; also the config-file key (camelCase of it). */
  name: string;
  short?: string;
  type: FlagType;
  /** Repeatable on the command line; comma-separated in the env var unless envSeparator says otherwise. */
  multiple?: boolean;
  /** How a repeatable flag's env var separates its values (commands contain commas: newline). */
  envSeparator?: "comma" | "newline";
  env: string;
  /** Placeholder shown in help. */
  value?: string;
  default?: string;
  help: string;
  /** Section heading in help: a key of GROUP_TITLES (add yours with registerGroup). */
  group: string;
  /**
   * A whole number in [min, max]: checked when the settings are read, whether or not the
   * concern that uses it runs (a `--vault-concurrency 0` is wrong even with no vault://).
   */
  range?: { min: number; max: number };
}

export const FLAGS: readonly FlagDef[] = [
  { name: "exec", type: "boolean", env: "LATCHKEY_EXEC", group: "run",
    help: "replace latchkey with COMMAND (no supervisor left running; COMMAND becomes PID 1)" },
  { name: "grace", type: "string", env: "LATCHKEY_GRACE", value: "DURATION", default: "5s", group: "run",
    help: "after the app exits, SIGTERM what is left of its process group, SIGKILL it after DURATION" },
  { name: "stop-timeout", type: "string", env: "LATCHKEY_STOP_TIMEOUT", value: "DURATION", default: "10s", group: "run",
    help: "after SIGTERM/SIGINT/SIGQUIT arrives (whatever --rewrite makes of it), SIGKILL the app if it is still running after DURATION (0 = never)" },
  { name: "pass-fd", type: "string", multiple: true, env: "LATCHKEY_PASS_FD", value: "FD", group: "run",
    help: "hand inherited descriptor FD to the app (repeatable); the app gets 0, 1, 2 and these, nothing else" },
  { name: "signal-group", type: "boolean", env: "LATCHKEY_SIGNAL_GROUP", group: "signals",
    help: "forward signals to the app's whole process group, not only the app (like tini -g)" },
  { name: "rewrite", type: "string", multiple: true, env: "LATCHKEY_REWRITE", value: "FROM:TO", group: "signals",
    help: "deliver signal TO when FROM arrives (e.g. TERM:QUIT); TO=0 drops FROM (repeatable)" },
  { name: "parent-death-signal", type: "string", env: "LATCHKEY_PARENT_DEATH_SIGNAL", value: "SIG", group: "signals",
    help: "the kernel sends SIG (e.g. KILL) to the app when its parent dies: latchkey, or with --exec latchkey's parent (like tini -p)" },
  { name: "user", short: "u", type: "string", env: "LATCHKEY_USER", value: "USER[:GROUP]", group: "privileges",
    help: "run the app as USER (name or uid) with its supplementary groups, or as USER:GROUP; sets HOME" },
  { name: "no-new-privileges", type: "boolean", env: "LATCHKEY_NO_NEW_PRIVILEGES", group: "privileges",
    help: "start the app with no_new_privs: setuid/setgid programs (sudo, su, ping) and file capabilities no longer elevate" },
  { name: "log-level", type: "string", env: "LATCHKEY_LOG_LEVEL", value: "LEVEL", default: "warn", group: "logging",
    help: "debug, info, warn, error or silent" },
  { name: "log-format", type: "string", env: "LATCHKEY_LOG_FORMAT", value: "FORMAT", default: "text", group: "logging",
    help: "text or json; every line is marked as latchkey's (prefix `latchkey:` or \"src\":\"latchkey\")" },
  { name: "help", short: "h", type: "boolean", env: "", group: "general", help: "print this help and exit" },
  { name: "version", short: "V", type: "boolean", env: "", group: "general", help: "print the version and exit" },
];

export const GROUP_TITLES: Record<string, string> = {
  run: "Running the app",
  signals: "Signals",
  privileges: "Privileges",
  secrets: "Secrets",
  logging: "Logging",
  general: "General",
};

export function registerGroup(key: string, title: string): void {
  GROUP_TITLES[key] ??= title;
}

/** Register flags from other concerns (secrets, gate, watch) without editing this file's table. */
const all: FlagDef[] = [...FLAGS];
const names = new Set(FLAGS.map((f) => f.name));
let envNames: readonly string[] | null = null;
export function registerFlags(defs: readonly FlagDef[]): void {
  for (const d of defs) {
    if (names.has(d.name)) throw new Error(`duplicate flag --${d.name}`);
    names.add(d.name);
    all.push(d);
  }
  envNames = null;
}
export function allFlags(): readonly FlagDef[] {
  return all;
}
/** The env vars of every flag (asked once per inherited variable at start: kept, not rebuilt). */
export function flagEnvNames(): readonly string[] {
  return (envNames ??= all.map((f) => f.env).filter((e) => e !== ""));
}

export function configKey(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
