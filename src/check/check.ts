/**
 * `latchkey check`: everything a real start does up to starting the app — load, map,
 * validate, resolve the command and the user — then a report instead of the app. It fails
 * with the same error and exit code the real start would give; in `--format json` the
 * failure is also printed as JSON on stdout for machines.
 */
import { isLatchkeyError, type LatchkeyError } from "../errors.ts";
import type { PreparedEnv } from "../env/prepare.ts";
import { listFailures } from "../env/required.ts";
import type { SecretsOptions } from "../env/options.ts";
import { missingHome, type SshTarget } from "../ssh/install.ts";
import { buildReport, errorJson, formatText, redactReport } from "./report.ts";
import { fingerprinter } from "./fingerprint.ts";
import { escapeJson } from "../log/logger.ts";
import { redactor } from "../log/redact.ts";

export interface CheckInput {
  prepared: PreparedEnv;
  opts: SecretsOptions;
  ssh: SshTarget;
  format: "text" | "json";
  configFile?: string;
  user?: string;
  /** --fingerprint-key-file's bytes; without it, a random key for this run alone. */
  fingerprintKey?: Buffer;
  /** Resolves COMMAND and checks the privilege drop, when a command was given; returns its path. */
  launch?: () => string;
  /** Further stages of a real start (e.g. the startup gate), run only when everything before passed. */
  extra?: () => Promise<void>;
}

/** `write` gets the report redacted and escaped, ready to print as it is. */
export async function runCheck(input: CheckInput, write: (s: string) => void): Promise<LatchkeyError | null> {
  const failures = listFailures(input.prepared, input.opts);
  const home = input.prepared.ssh.length ? missingHome(input.ssh) : null;
  if (home) failures.push(home);
  let command: string | undefined;
  if (failures.length === 0 && input.launch) {
    try {
      command = input.launch();
    } catch (e) {
      if (!isLatchkeyError(e)) throw e;
      failures.push(e);
    }
  }
  if (failures.length === 0 && input.extra) {
    try {
      await input.extra();
    } catch (e) {
      if (!isLatchkeyError(e)) throw e;
      failures.push(e);
    }
  }
  const report = buildReport(input.prepared, {
    require: input.opts.require, failures, ssh: input.ssh, fingerprint: fingerprinter(input.fingerprintKey),
    ...(input.configFile ? { configFile: input.configFile } : {}),
    ...(command ? { command } : {}),
    ...(input.user ? { user: input.user } : {}),
  });
  const safe = redactReport(report, (t) => redactor.redact(t));
  write(input.format === "json" ? escapeJson(JSON.stringify(safe, null, 2)) + "\n" : formatText(safe));
  return failures[0] ?? null;
}

/** A failure before the report could be built (bad secret, bad config): JSON for machines. */
export function checkFailureJson(e: LatchkeyError): string {
  return JSON.stringify({ ok: false, errors: [errorJson(e)] }, null, 2) + "\n";
}
