/**
 * The secrets settings of a run, typed and checked, from the layered Settings (flags, env,
 * config file) and the config file's `secrets:` / `sources:` sections.
 */
import { section } from "../config/sections.ts";
import { invalid, type Settings } from "../config/settings.ts";
import { EXPAND_FORMATS, parseSize, TRIM_MODES, type ExpandFormat, type ExpandRule, type TrimMode } from "./content.ts";
import { DEFAULT_MAX_SIZE, DEFAULT_SECRETS_DIR } from "./flags.ts";
import { isVarName, parseMap, type NamingOptions } from "./naming.ts";
import type { SecretRule } from "./rules.ts";

/** The largest --max-size accepted (the env alone holds at most 128 KiB per variable). */
export const MAX_MAX_SIZE = 64 * 1024 * 1024;
const MAX_MAX_SIZE_TEXT = "64MiB";

export type ConflictPolicy = "error" | "precedence";

export interface SecretsOptions {
  dirs: Array<{ path: string; optional: boolean }>;
  envName?: string;
  naming: NamingOptions;
  /** `auto`, `all`, `off`, or exactly these VAR names (see var-file.ts). */
  fileVars: "auto" | "all" | "off" | Set<string>;
  keepFileVars: boolean;
  envFiles: string[];
  /** --dotenv-references: values in env files may be references and NAME_FILE (off: plain values). */
  dotenvReferences: boolean;
  /** How long all secret managers together may take at startup (ms). */
  fetchTimeoutMs: number;
  trim: TrimMode;
  maxSize: number;
  /** Global `--expand FORMAT` (every secret). */
  expandAll?: ExpandRule;
  /** Per-secret rules by file name or variable name. */
  rules: Map<string, SecretRule>;
  onConflict: ConflictPolicy;
  require: string[];
  /** Glob patterns of secrets-dir file names that are SSH files (empty: off). */
  ssh: string[];
  sshDir?: string;
  keepEnv: Set<string> | "all";
  passSchemes: Set<string>;
  /** `sources:` section: VAR → reference. */
  sources: Map<string, string>;
}

export function secretsOptions(s: Settings): SecretsOptions {
  const dirsOrigin = s.origin("secrets-dir");
  const dirs = s.list("secrets-dir").map((path) => ({ path, optional: dirsOrigin?.kind === "default" && path === DEFAULT_SECRETS_DIR }));

  const rules = new Map<string, SecretRule>();
  for (const [k, v] of section<Map<string, SecretRule>>("secrets") ?? []) rules.set(k, { ...v });
  const ruleFor = (name: string, origin: string): SecretRule => {
    let r = rules.get(name);
    if (!r) rules.set(name, (r = { origin }));
    return r;
  };

  let expandAll: ExpandRule | undefined;
  for (const e of names(s, "expand")) {
    const eq = e.lastIndexOf("=");
    const fmt = (eq === -1 ? e : e.slice(eq + 1)).trim();
    if (!(EXPAND_FORMATS as readonly string[]).includes(fmt)) {
      throw invalid(s.origin("expand")!, e, `expected [SECRET=]FORMAT with FORMAT one of: ${EXPAND_FORMATS.join(", ")}`);
    }
    if (eq === -1) expandAll = { format: fmt as ExpandFormat };
    else {
      const r = ruleFor(e.slice(0, eq).trim(), s.origin("expand")!.label);
      r.expand = { ...r.expand, format: fmt as ExpandFormat };
    }
  }
  for (const name of names(s, "base64")) ruleFor(name, s.origin("base64")!.label).base64 = true;

  const maxRaw = s.string("max-size") ?? DEFAULT_MAX_SIZE;
  const maxSize = parseSize(maxRaw);
  if (maxSize === null) throw invalid(s.origin("max-size")!, maxRaw, "expected a size such as 65536, 64KiB or 1MiB");
  // Reading a secret sets aside max-size + 1 bytes: a size no machine has must fail here, in
  // one line, not as an allocation failure at the first secret file.
  if (maxSize > MAX_MAX_SIZE) throw invalid(s.origin("max-size")!, maxRaw, `a secret can be at most ${MAX_MAX_SIZE_TEXT}`);

  const fileVarsRaw = names(s, "file-vars");
  let fileVars: SecretsOptions["fileVars"];
  if (fileVarsRaw.length === 1 && ["auto", "all", "off"].includes(fileVarsRaw[0]!)) fileVars = fileVarsRaw[0] as "auto" | "all" | "off";
  else {
    for (const n of fileVarsRaw) {
      if (!isVarName(n) || ["auto", "all", "off"].includes(n)) {
        throw invalid(s.origin("file-vars")!, n, "expected auto, all, off, or a list of variable names (e.g. POSTGRES_PASSWORD)");
      }
    }
    fileVars = new Set(fileVarsRaw);
  }

  const require = names(s, "require");
  for (const n of require) if (!isVarName(n)) throw invalid(s.origin("require")!, n, "expected variable names (letters, digits, _)");
  for (const [name, r] of rules) if (r.required && !require.includes(name)) require.push(name);

  const prefix = s.string("prefix") ?? "";
  if (prefix !== "" && !isVarName(prefix)) throw invalid(s.origin("prefix")!, prefix, "expected the start of a variable name (letters, digits, _)");

  const ssh = names(s, "ssh").filter((p) => p !== "none" && p !== "off");
  const keepEnvRaw = names(s, "keep-env");
  const envName = s.string("env-name");
  if (envName !== undefined && (envName === "" || envName.includes("/") || envName.startsWith("."))) {
    throw invalid(s.origin("env-name")!, envName, "expected a directory name (no '/', not starting with '.')");
  }
  const passSchemes = new Set(names(s, "pass-scheme").map((x) => x.replace(/:\/\/$/, "").toLowerCase()));
  const sshDir = s.string("ssh-dir");
  // An empty --ssh-dir (an unset variable) is not "the default": say so before any key is written.
  if (sshDir !== undefined && sshDir.trim() === "") throw invalid(s.origin("ssh-dir")!, sshDir, "expected a directory; leave the setting out for the user's ~/.ssh");

  return {
    dirs,
    ...(envName !== undefined ? { envName } : {}),
    naming: { prefix, keepCase: s.boolean("keep-case"), map: s.get("map") ? parseMap(names(s, "map"), s.origin("map")!.label) : new Map() },
    fileVars,
    keepFileVars: s.boolean("keep-file-vars"),
    envFiles: [...s.list("dotenv"), ...s.list("env-file")],
    dotenvReferences: s.boolean("dotenv-references"),
    fetchTimeoutMs: positiveDuration(s, "fetch-timeout") ?? 60_000,
    trim: s.oneOf("trim", TRIM_MODES) ?? "newline",
    maxSize,
    ...(expandAll ? { expandAll } : {}),
    rules,
    onConflict: s.oneOf("on-conflict", ["error", "precedence"] as const) ?? "error",
    require,
    ssh,
    ...(sshDir !== undefined ? { sshDir } : {}),
    keepEnv: keepEnvRaw.includes("all") ? "all" : new Set(keepEnvRaw),
    passSchemes,
    sources: section<Map<string, string>>("sources") ?? new Map(),
  };
}

/** List settings of names also take `A,B` in one flag value, as the env var does. Paths do not. */
function names(s: Settings, name: string): string[] {
  return s.list(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

export function checkFormat(s: Settings): "text" | "json" {
  return s.oneOf("format", ["text", "json"] as const) ?? "text";
}

function positiveDuration(s: Settings, name: string): number | undefined {
  const ms = s.duration(name);
  if (ms !== undefined && ms <= 0) throw invalid(s.origin(name)!, s.string(name)!, "expected a duration above 0");
  return ms;
}
