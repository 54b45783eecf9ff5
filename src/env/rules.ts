/**
 * Per-secret rules from the config file's `secrets:` section, keyed by secret file name or
 * by variable name:
 *
 *   secrets:
 *     db.json:      { expand: json, prefix: DB_, keys: [user, password] }
 *     tls.p12:      { encoding: base64 }
 *     DB_PASSWORD:  { required: true, minLength: 16, pattern: "^[^ ]+$" }
 *
 * and the `sources:` section: variables the app gets from a reference, whatever its scheme
 * (`API_KEY: vault://secret/data/app#api_key`). Both are registered as config sections.
 */
import { registerSection } from "../config/sections.ts";
import {
  checkKeys, expectBoolean, expectInt, expectObject, expectOneOf, expectString, expectStringList, type FieldPath,
} from "../config/validate.ts";
import { parseReference } from "../sources/source.ts";
import { EXPAND_FORMATS, TRIM_MODES, type ExpandRule, type TrimMode } from "./content.ts";
import { isVarName } from "./naming.ts";

export interface SecretRule {
  expand?: ExpandRule;
  base64?: boolean;
  trim?: TrimMode;
  required?: boolean;
  pattern?: RegExp;
  minLength?: number;
  /** Where the rule was written, for error messages: `latchkey.yaml: secrets.DB_PASSWORD`. */
  origin: string;
}

const RULE_KEYS = ["expand", "prefix", "keys", "encoding", "trim", "required", "pattern", "minLength"];

function validateSecrets(value: unknown, at: FieldPath): Map<string, SecretRule> {
  const obj = expectObject(value, at);
  const out = new Map<string, SecretRule>();
  for (const [name, raw] of Object.entries(obj)) {
    const p = at.child(name);
    const r = expectObject(raw, p);
    checkKeys(r, RULE_KEYS, p);
    const rule: SecretRule = { origin: `${p.file}: ${p.path}` };
    if (r.expand !== undefined) {
      rule.expand = { format: expectOneOf(r.expand, EXPAND_FORMATS, p.child("expand")) };
      if (r.prefix !== undefined) {
        const prefix = expectString(r.prefix, p.child("prefix"));
        if (prefix !== "" && !isVarName(prefix)) throw p.child("prefix").fail(r.prefix, "expected the start of a variable name (letters, digits, _)");
        rule.expand.prefix = prefix;
      }
      if (r.keys !== undefined) rule.expand.keys = expectStringList(r.keys, p.child("keys"));
    } else {
      for (const k of ["prefix", "keys"]) {
        if (r[k] !== undefined) throw p.child(k).fail(r[k], "only allowed together with expand: json or expand: dotenv");
      }
    }
    if (r.encoding !== undefined) rule.base64 = expectOneOf(r.encoding, ["text", "base64"] as const, p.child("encoding")) === "base64";
    if (r.trim !== undefined) rule.trim = expectOneOf(r.trim, TRIM_MODES, p.child("trim"));
    if (r.required !== undefined) rule.required = expectBoolean(r.required, p.child("required"));
    if (r.minLength !== undefined) rule.minLength = expectInt(r.minLength, p.child("minLength"));
    if (r.pattern !== undefined) {
      const src = expectString(r.pattern, p.child("pattern"));
      try {
        rule.pattern = new RegExp(src, "u");
      } catch (e) {
        throw p.child("pattern").fail(src, `expected a regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, "")})`);
      }
    }
    out.set(name, rule);
  }
  return out;
}

function validateSources(value: unknown, at: FieldPath): Map<string, string> {
  const obj = expectObject(value, at);
  const out = new Map<string, string>();
  for (const [name, raw] of Object.entries(obj)) {
    const p = at.child(name);
    if (!isVarName(name)) throw p.fail(name, "the key must be a variable name (letters, digits, _; not starting with a digit)");
    const ref = expectString(raw, p);
    if (!parseReference(ref, `${p.file}: ${p.path}`)) throw p.fail(ref, "expected a reference SCHEME://LOCATOR[?params][#key], e.g. file:///run/secrets/x");
    out.set(name, ref);
  }
  return out;
}

let registered = false;
export function registerSecretSections(): void {
  if (registered) return;
  registered = true;
  registerSection("secrets", { help: "per-secret rules: expand, prefix, keys, encoding, trim, required, pattern, minLength", validate: validateSecrets });
  registerSection("sources", { help: "VAR: SCHEME://reference — variables the app gets from a secret source", validate: validateSources });
}
