/**
 * The typed configuration of a run, built from layered settings (defaults ← file ← env ←
 * flags). Every check that can fail happens here, before anything starts.
 */
import type { ParsedArgs } from "../cli/parse.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log/logger.ts";
import { applyRewrites, defaultTable, parseSignal, signalNumber, type SignalTable } from "../supervisor/signals.ts";
import { usageError } from "../errors.ts";
import { invalid, misspeltEnvWarnings, Settings } from "./settings.ts";
import { loadConfigFile, type ConfigFile } from "./file.ts";
import { setSectionValues } from "./sections.ts";
import { checkFormat, secretsOptions, type SecretsOptions } from "../env/options.ts";

export interface RunConfig {
  exec: boolean;
  user?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  supervise: {
    table: SignalTable;
    signalGroup: boolean;
    stopTimeout: number;
    grace: number;
  };
  /** What crosses from latchkey to the app besides env and argv (platform/boundary.ts). */
  boundary: BoundaryOptions;
  settings: Settings;
  /** Secrets and the app's environment (src/env). */
  secrets: SecretsOptions;
  /** Output format of reporting subcommands (check). */
  format: "text" | "json";
  /** The config file read (--config / LATCHKEY_CONFIG), if any. */
  configFile?: string;
  /** Said once at startup, after the log level is set (misspelt LATCHKEY_* variables). */
  warnings: string[];
}

export interface BoundaryOptions {
  /** Inherited descriptors the app gets besides 0-2 (--pass-fd). */
  passFds: number[];
  noNewPrivs: boolean;
  /** Signal number the app gets when its parent dies (--parent-death-signal). */
  deathSignal?: number;
}

function boundaryOptions(s: Settings): BoundaryOptions {
  const passFds: number[] = [];
  for (const raw of s.list("pass-fd")) {
    const fd = /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!(fd >= 0)) throw invalid(s.origin("pass-fd")!, raw, "expected a descriptor number such as 3");
    if (fd < 3) throw invalid(s.origin("pass-fd")!, raw, "0, 1 and 2 are always passed; name descriptors from 3 up");
    if (!passFds.includes(fd)) passFds.push(fd);
  }
  const sigRaw = s.string("parent-death-signal");
  let deathSignal: number | undefined;
  if (sigRaw !== undefined) {
    const name = parseSignal(sigRaw);
    if (!name) throw invalid(s.origin("parent-death-signal")!, sigRaw, "expected a signal name or number, e.g. KILL or TERM");
    deathSignal = signalNumber(name);
  }
  return { passFds, noNewPrivs: s.boolean("no-new-privileges"), ...(deathSignal !== undefined ? { deathSignal } : {}) };
}

export function loadRunConfig(args: ParsedArgs, env: NodeJS.ProcessEnv): RunConfig {
  // The config file's path is itself a setting (flag or env), read before the file is.
  const path = new Settings({ flags: args.flags, env }).string("config");
  const file: ConfigFile | undefined = path !== undefined ? loadConfigFile(path) : undefined;
  setSectionValues(file?.sections ?? new Map());
  const s = new Settings({ flags: args.flags, env, ...(file ? { file: { path: file.path, values: file.values } } : {}) });
  const table = defaultTable();
  const rewrites = s.list("rewrite");
  if (rewrites.length) applyRewrites(table, rewrites, s.origin("rewrite")!);
  const user = runAs(s, env);
  s.checkRanges();
  return {
    exec: s.boolean("exec"),
    ...(user !== undefined ? { user } : {}),
    logLevel: s.oneOf("log-level", LOG_LEVELS) ?? "warn",
    logFormat: s.oneOf("log-format", LOG_FORMATS) ?? "text",
    supervise: {
      table,
      signalGroup: s.boolean("signal-group"),
      stopTimeout: s.duration("stop-timeout") ?? 10_000,
      grace: s.duration("grace") ?? 5_000,
    },
    boundary: boundaryOptions(s),
    settings: s,
    secrets: secretsOptions(s),
    format: checkFormat(s),
    ...(path !== undefined ? { configFile: path } : {}),
    warnings: misspeltEnvWarnings(env),
  };
}

/**
 * `--user ""` must not mean "no switch": `--user "$APP_USER"` with the variable unset, or an
 * empty LATCHKEY_USER, would run the app as root. Every other empty LATCHKEY_* is unset; this
 * one is refused, wherever it was written.
 */
function runAs(s: Settings, env: NodeJS.ProcessEnv): string | undefined {
  const user = s.string("user");
  const empty = (where: string) => usageError(`${where}: empty user; name one (e.g. app, 1000 or 1000:1000), or leave the setting out to run the app as latchkey's own user`);
  if (user !== undefined && user.trim() === "") throw empty(s.origin("user")!.label);
  if (user === undefined && env.LATCHKEY_USER !== undefined && env.LATCHKEY_USER.trim() === "") throw empty("LATCHKEY_USER");
  return user;
}
