/**
 * `--config FILE` / LATCHKEY_CONFIG: a YAML or JSON file. Top-level keys are either flag keys
 * (camelCase of the long flag: `secretsDir`, `logLevel`, ...) or registered sections
 * (`secrets`, `sources`, `ssh`, and whatever providers add). Everything is validated here,
 * before anything starts, with errors that give the field path, the bad value and the
 * allowed values.
 */
import { FileReadError, readRegularFile } from "../sources/file/read.ts";

const CONFIG_MAX_SIZE = 1024 * 1024;
import { yaml } from "../platform/lazy.ts";
import { allFlags, configKey, type FlagDef } from "../cli/flags.ts";
import { ExitCode, LatchkeyError, configError } from "../errors.ts";
import type { RawValue } from "./settings.ts";
import { sectionNames, sectionSpec } from "./sections.ts";
import { checkKeys, expectBoolean, expectString, FieldPath, isPlainObject, show } from "./validate.ts";

export interface ConfigFile {
  path: string;
  /** Flag keys → values, in the shape Settings expects. */
  values: Record<string, RawValue>;
  /** Validated sections. */
  sections: Map<string, unknown>;
}

/** Flags that make no sense inside a file. */
const NOT_IN_FILE = new Set(["config", "help", "version"]);

export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    // Non-blocking, regular files only: a FIFO here must not hang startup (sources/file/read.ts).
    text = readRegularFile(path, CONFIG_MAX_SIZE).bytes.toString("utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new LatchkeyError("config", ExitCode.CONFIG, `config file ${path} does not exist`);
    if (code === "EACCES") {
      throw new LatchkeyError("no_perm", ExitCode.NO_PERM, `config file ${path}: permission denied (latchkey runs as uid ${process.getuid?.()})`);
    }
    throw configError(`config file ${path}: cannot read: ${e instanceof FileReadError ? e.message : (e as Error).message}`);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, path: string): ConfigFile {
  const doc = parseDocumentText(text, path);
  const root = new FieldPath(path, "");
  if (doc === null || doc === undefined) return { path, values: {}, sections: new Map() };
  if (!isPlainObject(doc)) throw root.fail(doc, "expected a mapping of settings at the top level");

  const flagKeys = new Map<string, FlagDef>();
  for (const f of allFlags()) if (!NOT_IN_FILE.has(f.name) && f.env !== "") flagKeys.set(configKey(f.name), f);
  const allowed = [...flagKeys.keys(), ...sectionNames()];
  checkKeys(doc, allowed, root);

  const values: Record<string, RawValue> = {};
  const sections = new Map<string, unknown>();
  for (const [key, raw] of Object.entries(doc)) {
    const at = root.child(key);
    const spec = sectionSpec(key);
    if (spec) {
      sections.set(key, spec.validate(raw, at));
      continue;
    }
    values[key] = flagValue(flagKeys.get(key)!, raw, at);
  }
  return { path, values, sections };
}

function parseDocumentText(text: string, path: string): unknown {
  if (/\.json$/i.test(path)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw configError(`${path}: bad JSON: ${(e as Error).message}`);
    }
  }
  const { parse, YAMLParseError } = yaml();
  try {
    return parse(text, { prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const first = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      const before = text.slice(0, e.pos[0]);
      const line = before.split("\n").length;
      const col = e.pos[0] - before.lastIndexOf("\n");
      throw configError(`${path}:${line}:${col}: bad YAML: ${first}`);
    }
    throw configError(`${path}: bad YAML: ${(e as Error).message}`);
  }
}

/**
 * A flag key's value in the shape the command line would give it. List flags also take a
 * YAML list; `K=V` list flags (`map`) also take a mapping.
 */
function flagValue(f: FlagDef, raw: unknown, at: FieldPath): RawValue {
  if (f.type === "boolean") {
    if (typeof raw === "string" && /^(true|false|yes|no|on|off|1|0)$/i.test(raw)) return raw;
    return expectBoolean(raw, at);
  }
  if (f.multiple) {
    if (Array.isArray(raw)) return raw.map((x, i) => expectString(x, at.child(i)));
    if (isPlainObject(raw)) {
      return Object.entries(raw).map(([k, v]) => `${k}=${expectString(v, at.child(k))}`);
    }
    if (typeof raw === "string") return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
    throw at.fail(raw, "expected a list of strings");
  }
  if (raw === null) throw at.fail(raw, `expected a value${f.value ? ` (${f.value})` : ""}`);
  if (typeof raw === "object") throw at.fail(raw, `expected a single value${f.value ? ` (${f.value})` : ""}, not ${show(raw).startsWith("[") ? "a list" : "a mapping"}`);
  return expectString(raw, at);
}
