/**
 * One error family for everything latchkey refuses to do. Each error carries a stable
 * `code` (for tests and JSON logs), the process exit code it maps to, and a one-line
 * message for humans that names the thing at fault. Secret values never go in here:
 * messages name files, variables and references, not contents.
 */

/** Exit codes of latchkey's own failures (sysexits.h where one fits). The app's codes pass through. */
export const ExitCode = {
  OK: 0,
  /** Bad command line: unknown flag, missing `--`, empty command, bad value. */
  USAGE: 64,
  /** A secret's content is unusable (NUL byte, bad UTF-8, too large, bad JSON, failed validation). */
  DATA: 65,
  /** A required secret, file or directory is missing or empty. */
  NO_INPUT: 66,
  /** Unknown user or group. */
  NO_USER: 67,
  /** The startup gate failed: a dependency never became ready. */
  UNAVAILABLE: 69,
  /** A bug in latchkey. */
  INTERNAL: 70,
  /** The operating system refused something latchkey needs (spawn, fork, read). */
  OS: 71,
  /** A secret manager could not be reached or answered with an error. */
  TEMP_FAIL: 75,
  /** Not allowed: privilege drop refused or not verified, policy denied, unreadable file. */
  NO_PERM: 77,
  /** Bad configuration file or configuration value. */
  CONFIG: 78,
  /** COMMAND exists but cannot be executed (as the shell does). */
  NOT_EXECUTABLE: 126,
  /** COMMAND not found (as the shell does). */
  NOT_FOUND: 127,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ExitCodeDoc {
  code: number;
  name: string;
  meaning: string;
}

/** The table printed by `latchkey help` and copied into the README (a test keeps them in step). */
export const EXIT_CODE_TABLE: readonly ExitCodeDoc[] = [
  { code: 0, name: "OK", meaning: "the app exited 0 (or a subcommand succeeded)" },
  { code: 1, name: "-", meaning: "(1-255) the app's own exit code, passed through unchanged" },
  { code: 9, name: "RUNTIME_ENV_FILE", meaning: "--env-file FILE before -- names a missing FILE: the Node runtime inside latchkey exits before latchkey runs (--dotenv FILE gives latchkey's own error, 66)" },
  { code: ExitCode.USAGE, name: "USAGE", meaning: "bad command line: unknown flag, missing --, empty command, bad value" },
  { code: ExitCode.DATA, name: "DATA", meaning: "a secret's content is unusable (NUL, bad UTF-8, too large, bad JSON, validation), or the app's environment is too large for the kernel to start it" },
  { code: ExitCode.NO_INPUT, name: "NO_INPUT", meaning: "a required secret, file or directory is missing or empty" },
  { code: ExitCode.NO_USER, name: "NO_USER", meaning: "unknown user or group for --user" },
  { code: ExitCode.UNAVAILABLE, name: "UNAVAILABLE", meaning: "the startup gate failed (a dependency never became ready)" },
  { code: ExitCode.INTERNAL, name: "INTERNAL", meaning: "a bug in latchkey" },
  { code: ExitCode.OS, name: "OS", meaning: "the operating system refused something latchkey needs" },
  { code: ExitCode.TEMP_FAIL, name: "TEMP_FAIL", meaning: "a secret manager could not be reached or returned an error" },
  { code: ExitCode.NO_PERM, name: "NO_PERM", meaning: "not permitted: privilege drop refused or unverified, policy denied, unreadable file" },
  { code: ExitCode.CONFIG, name: "CONFIG", meaning: "bad configuration file or value" },
  { code: ExitCode.NOT_EXECUTABLE, name: "NOT_EXECUTABLE", meaning: "COMMAND exists but is not executable" },
  { code: ExitCode.NOT_FOUND, name: "NOT_FOUND", meaning: "COMMAND not found" },
  { code: 128, name: "128+n", meaning: "the app died of signal n (e.g. 143 = SIGTERM, 137 = SIGKILL)" },
];

export class LatchkeyError extends Error {
  override readonly name = "LatchkeyError";
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): LatchkeyError =>
  new LatchkeyError("usage", ExitCode.USAGE, message);

export const configError = (message: string, cause?: unknown): LatchkeyError =>
  new LatchkeyError("config", ExitCode.CONFIG, message, { cause });

export function isLatchkeyError(e: unknown): e is LatchkeyError {
  return e instanceof LatchkeyError;
}
