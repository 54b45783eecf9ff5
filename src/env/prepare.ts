/**
 * Building the app's environment from every secret source, all or nothing:
 *
 *   explicit config map (`sources:`) > references in env values > VAR_FILE > secrets dir
 *     > --dotenv files > inherited env
 *
 * A variable set by two secret sources (the first four) with different values is an error
 * naming both, unless `--on-conflict precedence`. Every value is registered with the
 * redactor the moment it is decoded, before anything can log. latchkey's own
 * `process.env` is never written: the result is a new object for the child only.
 */
import { dotenv } from "../platform/lazy.ts";
import { basename } from "node:path";
import { configError, ExitCode, LatchkeyError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { redactor } from "../log/redact.ts";
import { scanSecretsDir, type DirEntry } from "../sources/file/dir.ts";
import { readFileSecret, setFileSizeLimit } from "../sources/file/index.ts";
import { readUnplanted } from "../sources/file/read.ts";
import { decodeSecretText, expandPairs, selectKey, type ContentRules, type ExpandRule } from "./content.ts";
import { isVarName, mapName, printable } from "./naming.ts";
import type { SecretsOptions } from "./options.ts";
import { fetchReferences, findReferences, looksLikeReference, type PendingRef } from "./references.ts";
import type { SecretRule } from "./rules.ts";
import { scrubList, type Scrubbed } from "./scrub.ts";
import { varFileCandidates } from "./var-file.ts";
import { isSshSecret, sshInstallName } from "../ssh/match.ts";

export type SourceKind = "config" | "reference" | "var-file" | "dir" | "env-file";
/** Higher wins. env-file sits with the inherited env: it is not a "secret source" for conflicts. */
export const RANK: Record<SourceKind, number> = { config: 4, reference: 3, "var-file": 2, dir: 1, "env-file": 0 };
export const KIND_LABEL: Record<SourceKind, string> = {
  config: "config sources",
  reference: "reference",
  "var-file": "VAR_FILE",
  dir: "secrets dir",
  "env-file": "env file",
};

export interface SecretVar {
  name: string;
  value: string;
  kind: SourceKind;
  /** Where it came from, safe to print: a path, `NAME_FILE=/path`, `NAME=scheme://...`. */
  source: string;
  /** Provider version (file inode/mtime, manager version id) for change detection. */
  version?: string;
}

export interface SshSecret {
  /** File name under ~/.ssh. */
  name: string;
  source: string;
  bytes: Buffer;
}

export interface PreparedEnv {
  /** The child's environment (HOME is set later, by buildChildEnv, from --user). */
  env: Record<string, string>;
  /** Variables the app gets from secrets (and env files), sorted by name. */
  secrets: SecretVar[];
  ssh: SshSecret[];
  scrubbed: Scrubbed[];
  /** NAME_FILE variables taken out of the app's env. */
  removed: string[];
  /** NAME_FILE variables not read (file outside the secrets dirs under --file-vars auto). */
  ignoredFileVars: string[];
  /** Under --on-conflict precedence: who won over whom. */
  overrides: Array<{ name: string; winner: string; loser: string }>;
  usedSchemes: Set<string>;
}

export async function prepareEnv(inherited: NodeJS.ProcessEnv, opts: SecretsOptions, log: Logger): Promise<PreparedEnv> {
  setFileSizeLimit(opts.maxSize);
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(inherited)) if (v !== undefined) base[k] = v;

  const envFileVars = new Map<string, SecretVar>();
  for (const file of opts.envFiles) {
    for (const [name, value] of Object.entries(readEnvFile(file))) {
      redactor.add(value);
      base[name] = value;
      envFileVars.set(name, { name, value, kind: "env-file", source: file });
    }
  }

  const candidates = new Map<string, SecretVar[]>();
  // Values reach here through decodeToVars, which has registered them with the redactor.
  const add = (v: SecretVar): void => {
    const list = candidates.get(v.name) ?? [];
    list.push(v);
    candidates.set(v.name, list);
  };

  // What may hold references and NAME_FILE: the inherited env, not a dotenv file (unless
  // --dotenv-references). A .env is often writable by the app; root must not read a file or a
  // secret because a line in it says so (and a watched .env would make the app's edit the trigger).
  const refBase = opts.dotenvReferences ? base : withoutEnvFileVars(base, envFileVars, log);

  // VAR_FILE
  const { use: fileVars, ignored: ignoredFileVars } = varFileCandidates(refBase, opts);
  if (ignoredFileVars.length) log.debug("NAME_FILE variables outside the secrets dirs left alone (--file-vars)", { vars: ignoredFileVars.join(",") });
  const removed: string[] = [];
  for (const fv of fileVars) {
    const rule = opts.rules.get(fv.name) ?? opts.rules.get(basename(fv.path));
    const what = `${fv.fileVar}=${fv.path}`;
    const { bytes, version } = readFileSecret(fv.path, opts.maxSize, what);
    for (const v of decodeToVars(bytes, fv.name, rule, opts, what)) add({ ...v, kind: "var-file", source: what, version });
    if (!opts.keepFileVars) removed.push(fv.fileVar);
  }

  // References in env values and the config file's `sources:`.
  const skip = new Set(fileVars.map((f) => f.fileVar));
  const pending: PendingRef[] = findReferences(refBase, skip, opts);
  const fetched = await fetchReferences(pending, log, opts.fetchTimeoutMs);
  for (const { ref, value, version, planned } of fetched) {
    const rule = opts.rules.get(ref.name);
    const what = (ref.kind === "config" ? `sources.${ref.name}=${ref.ref.raw}` : `${ref.name}=${ref.ref.raw}`) + (planned ? ` (${planned})` : "");
    const vars = decodeToVars(value, ref.name, rule, opts, what, ref.ref.key);
    for (const v of vars) add({ ...v, kind: ref.kind, source: what, ...(version !== undefined ? { version } : {}) });
    // Expanded into NAME_KEY variables: NAME itself still holds the reference text (a locator,
    // not a value); it must not reach the app as if it were the secret.
    if (ref.kind === "reference" && !vars.some((v) => v.name === ref.name)) removed.push(ref.name);
  }

  // Secrets directories.
  const ssh = new Map<string, SshSecret>();
  const seen = new Set<string>();
  for (const dir of opts.dirs) {
    const entries = scanSecretsDir(dir.path, { maxSize: opts.maxSize, optional: dir.optional, log, ...(opts.envName ? { envName: opts.envName } : {}) });
    if (entries === null) {
      log.debug("default secrets dir absent", { dir: dir.path });
      continue;
    }
    for (const e of entries) {
      seen.add(e.name);
      if (isSshSecret(e.name, opts.ssh)) {
        addSsh(ssh, e, opts);
        continue;
      }
      const mapped = mapName(e.name, opts.naming);
      if (mapped instanceof LatchkeyError) {
        throw new LatchkeyError(mapped.code, mapped.exitCode, `secret file ${printable(e.path)}: ${mapped.message}; rename it or use --map '${printable(e.name)}=NAME'`);
      }
      const rule = opts.rules.get(e.name) ?? opts.rules.get(mapped);
      for (const v of decodeToVars(e.bytes, mapped, rule, opts, `secret file ${printable(e.path)}`)) {
        add({ ...v, kind: "dir", source: e.path });
      }
    }
  }

  checkMapped(opts, seen);

  // Merge by precedence.
  const winners = new Map<string, SecretVar>();
  const overrides: PreparedEnv["overrides"] = [];
  for (const [name, list] of candidates) {
    let win = list[0]!;
    for (const c of list.slice(1)) {
      if (RANK[c.kind] >= RANK[win.kind]) {
        if (c.value !== win.value) note(c, win);
        win = c;
      } else if (c.value !== win.value) note(win, c);
    }
    winners.set(name, win);
    function note(w: SecretVar, l: SecretVar): void {
      if (opts.onConflict === "error") {
        throw new LatchkeyError("conflict", ExitCode.CONFIG,
          `${name} is set by two secret sources: ${describe(l)} and ${describe(w)}; remove one, or set --on-conflict precedence`);
      }
      overrides.push({ name, winner: describe(w), loser: describe(l) });
      log.info("secret overridden by a higher-precedence source", { var: name, winner: describe(w), loser: describe(l) });
    }
  }

  const usedSchemes = new Set(pending.map((p) => p.ref.scheme));
  const scrubbed = scrubList(base, usedSchemes, opts.keepEnv);
  const env: Record<string, string> = { ...base };
  for (const s of scrubbed) delete env[s.name];
  for (const r of removed) delete env[r];
  for (const [name, v] of winners) {
    if (base[name] !== undefined && base[name] !== v.value && !pending.some((p) => p.name === name && p.kind === "reference")) {
      log.debug("secret replaces an inherited variable", { var: name, source: v.source });
    }
    env[name] = v.value;
  }

  const secrets = new Map<string, SecretVar>();
  for (const [name, v] of envFileVars) if (!winners.has(name)) secrets.set(name, v);
  for (const [name, v] of winners) secrets.set(name, v);
  return {
    env,
    secrets: [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    ssh: [...ssh.values()],
    scrubbed,
    removed,
    ignoredFileVars,
    overrides,
    usedSchemes,
  };
}

/** `--map FILE=VAR` naming a file no secrets dir has: the app would miss VAR without a word. */
function checkMapped(opts: SecretsOptions, seen: ReadonlySet<string>): void {
  for (const file of opts.naming.map.keys()) {
    if (seen.has(file)) continue;
    const dirs = opts.dirs.map((d) => d.path).join(", ") || "none";
    throw new LatchkeyError("no_input", ExitCode.NO_INPUT, `--map: '${printable(file)}' is not a file in the secrets dir (${dirs})`);
  }
}

function describe(v: SecretVar): string {
  return v.kind === "dir" ? `secret file ${v.source} (secrets dir)` : `${v.source} (${KIND_LABEL[v.kind]})`;
}

/** Bytes → one variable, or several under --expand; `#key` selects one key of a JSON secret. */
function decodeToVars(bytes: Buffer, name: string, rule: SecretRule | undefined, opts: SecretsOptions, what: string, key?: string): Array<Pick<SecretVar, "name" | "value">> {
  const rules: ContentRules = { maxSize: opts.maxSize, trim: rule?.trim ?? opts.trim, base64: rule?.base64 ?? false };
  const { text, untrimmed } = decodeSecretText(bytes, rules, what);
  redactor.add(text);
  // The raw text too when it differs by more than the trimmed newline (a JSON document, a
  // value with trailing spaces): it is as secret as what the app gets.
  if (!rules.base64 && untrimmed.length !== text.length && untrimmed.trimEnd() !== text.trimEnd()) redactor.add(untrimmed);
  if (key !== undefined) {
    if (rules.base64) throw configError(`${what}: '#${key}' selects a JSON key, which a base64 (binary) secret cannot have`);
    const v = selectKey(text, key, what);
    redactor.add(v);
    return [{ name, value: v }];
  }
  const expand: ExpandRule | undefined = rule?.expand ?? (rules.base64 ? undefined : opts.expandAll);
  if (!expand) return [{ name, value: text }];
  const prefix = expand.prefix ?? `${name}_`;
  return expandPairs(text, expand, what).map(([k, v]) => {
    redactor.add(v);
    const mapped = mapName(k, { prefix, keepCase: opts.naming.keepCase, map: new Map() });
    if (mapped instanceof LatchkeyError) throw new LatchkeyError("data", ExitCode.DATA, `${what}: key ${mapped.message}`);
    return { name: mapped, value: v };
  });
}

function addSsh(ssh: Map<string, SshSecret>, e: DirEntry, opts: SecretsOptions): void {
  const name = sshInstallName(e.name);
  if (e.bytes.length > opts.maxSize) throw new LatchkeyError("data", ExitCode.DATA, `secret file ${e.path} is too large (--max-size)`);
  redactor.add(e.bytes.toString("utf8"));
  const prev = ssh.get(name);
  if (prev && !prev.bytes.equals(e.bytes)) {
    if (opts.onConflict === "error") {
      throw new LatchkeyError("conflict", ExitCode.CONFIG,
        `~/.ssh/${name} is set by two secret files: ${prev.source} and ${e.path}; remove one, or set --on-conflict precedence`);
    }
  }
  ssh.set(name, { name, source: e.path, bytes: e.bytes });
}

/** `base` without the variables a dotenv file set; a reference-like value there is named (never shown). */
function withoutEnvFileVars(base: Record<string, string>, fromFiles: ReadonlyMap<string, SecretVar>, log: Logger): Record<string, string> {
  if (fromFiles.size === 0) return base;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (!fromFiles.has(k)) out[k] = v;
  for (const [name, v] of fromFiles) {
    if (looksLikeReference(v.value)) {
      log.warn("a dotenv value looks like a secret reference; dotenv values are plain values, passed as written (--dotenv-references resolves them)", { var: name, file: v.source });
    }
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function readEnvFile(file: string): Record<string, string> {
  // Often the app's own file: a symlink it planted must not make root read another file into its environment.
  const { bytes } = readUnplanted(file, 1024 * 1024, `env file ${file}`);
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new LatchkeyError("data", ExitCode.DATA, `env file ${file} contains a NUL byte (line ${lineAt(bytes, nul)})`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // Replacing bad bytes with U+FFFD would hand the app a value nobody wrote.
    throw new LatchkeyError("data", ExitCode.DATA, `env file ${file}: line ${firstBadUtf8Line(bytes)} is not valid UTF-8`);
  }
  const parsed = dotenv().parse(text);
  for (const name of Object.keys(parsed)) {
    if (!isVarName(name)) throw new LatchkeyError("config", ExitCode.CONFIG, `env file ${file}: '${printable(name)}' is not a valid variable name`);
  }
  return parsed;
}


function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i !== -1 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

function firstBadUtf8Line(bytes: Buffer): number {
  let line = 1;
  for (let start = 0; start <= bytes.length; line++) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    try {
      utf8.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
  }
  return line;
}
