/**
 * Required secrets and per-secret validation: the startup gate's first stage (the gate calls
 * `validateSecrets` before its dependency checks; `check` and the real start give the same
 * errors). Messages name the variable, where it came from and the rule — never the value.
 */
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { SecretsOptions } from "./options.ts";
import type { PreparedEnv } from "./prepare.ts";

export interface ValidationResult {
  name: string;
  ok: boolean;
  problem?: string;
}

/** Throws the first failure (required missing/empty → NO_INPUT 66; rule failed → DATA 65). */
export function validateSecrets(prepared: Pick<PreparedEnv, "env" | "secrets">, opts: Pick<SecretsOptions, "require" | "rules">): void {
  const failures = listFailures(prepared, opts);
  if (failures[0]) throw failures[0];
}

/** Every failure, for `check` to show them all. */
export function listFailures(prepared: Pick<PreparedEnv, "env" | "secrets">, opts: Pick<SecretsOptions, "require" | "rules">): LatchkeyError[] {
  const out: LatchkeyError[] = [];
  const from = (name: string): string => {
    const s = prepared.secrets.find((x) => x.name === name);
    return s ? ` (from ${s.source})` : " (from the inherited environment)";
  };
  for (const name of opts.require) {
    const v = prepared.env[name];
    if (v === undefined) {
      out.push(new LatchkeyError("required", ExitCode.NO_INPUT,
        `required variable ${name} is not set by any source (secrets dirs, VAR_FILE, references, environment)`));
    } else if (v === "") {
      out.push(new LatchkeyError("required", ExitCode.NO_INPUT, `required variable ${name} is empty${from(name)}`));
    }
  }
  for (const [key, rule] of opts.rules) {
    if (rule.pattern === undefined && rule.minLength === undefined) continue;
    // A rule keyed by file name applies to the variable that file became.
    const names = key in prepared.env ? [key] : prepared.secrets.filter((s) => s.source.endsWith(`/${key}`)).map((s) => s.name);
    for (const name of names) {
      const v = prepared.env[name];
      if (v === undefined) continue;
      if (rule.minLength !== undefined && [...v].length < rule.minLength) {
        out.push(new LatchkeyError("invalid_secret", ExitCode.DATA,
          `${name}${from(name)} is shorter than ${rule.minLength} characters (${rule.origin}.minLength)`));
      }
      if (rule.pattern !== undefined && !rule.pattern.test(v)) {
        out.push(new LatchkeyError("invalid_secret", ExitCode.DATA,
          `${name}${from(name)} does not match /${rule.pattern.source}/ (${rule.origin}.pattern)`));
      }
    }
  }
  return out;
}
