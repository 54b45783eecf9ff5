/**
 * The config file's sections, as a registry: each concern registers the top-level key it owns
 * and a validator for it, so a new provider or feature extends the schema without editing
 * the loader. Top-level keys that are not sections are flag keys (see cli/flags.ts).
 *
 * How to add a section (e.g. `vault:` or `policy:`), from your own module:
 *
 *   import { registerSection, section } from "../config/sections.ts";
 *   import { checkKeys, expectObject, expectString } from "../config/validate.ts";
 *
 *   registerSection<VaultOptions>("vault", {
 *     help: "Vault address, auth method and namespace",
 *     validate(value, at) {                       // at = FieldPath("latchkey.yaml", "vault")
 *       const o = expectObject(value, at);
 *       checkKeys(o, ["address", "namespace", "auth"], at);
 *       return { address: expectString(o.address, at.child("address")) };
 *     },
 *   });
 *   // later, when the provider starts:  const opts = section<VaultOptions>("vault");
 *
 * Register before the config file is loaded: main.ts calls the concern's register function
 * (or imports its module) before `loadRunConfig`. A validator throws `at.fail(value, "expected
 * ...")` (or `checkKeys`) so every error names the field path, the bad value and what is allowed.
 */
import type { FieldPath } from "./validate.ts";

export interface SectionSpec<T = unknown> {
  /** One line for docs and for the "allowed keys" list of errors. */
  help: string;
  validate(value: unknown, at: FieldPath): T;
}

const specs = new Map<string, SectionSpec>();
const values = new Map<string, unknown>();

export function registerSection<T>(name: string, spec: SectionSpec<T>): void {
  if (specs.has(name) && specs.get(name) !== spec) throw new Error(`config section '${name}' registered twice`);
  specs.set(name, spec as SectionSpec);
}

export function sectionSpec(name: string): SectionSpec | undefined {
  return specs.get(name);
}

export function sectionNames(): string[] {
  return [...specs.keys()].sort();
}

/** The validated value of a section from the loaded config file (undefined when absent). */
export function section<T>(name: string): T | undefined {
  return values.get(name) as T | undefined;
}

/** Called by the config loader only. */
export function setSectionValues(validated: Map<string, unknown>): void {
  values.clear();
  for (const [k, v] of validated) values.set(k, v);
}
