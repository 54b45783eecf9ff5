/**
 * The fast path for `latchkey health ...` (argv[0] is `health`), taken by entry.ts before
 * the lifecycle modules (secret sources, config file parser, supervisor) are loaded: this
 * command runs every few seconds in every container. Anything this path does not know (a
 * flag registered by another concern) falls back to the full program, which either
 * understands it or reports it.
 */
import { isLatchkeyError } from "../errors.ts";
import { parseCommandLine, type ParsedArgs } from "../cli/parse.ts";
import { log } from "../log/logger.ts";
import "../gate/flags.ts";
import { runHealth } from "./command.ts";
import { exitAfterStdout } from "../cli/stdout.ts";

export function runHealthFast(argv: string[], fallback: () => void): void {
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv);
  } catch {
    return fallback();
  }
  if ((args.subcommand as string) !== "health") return fallback();
  if (process.env.LATCHKEY_LOG_FORMAT === "json") log.format = "json";
  runHealth(args, process.env).then(
    (code) => exitAfterStdout(code),
    (e: unknown) => {
      log.error(e instanceof Error ? e.message.split("\n")[0]! : String(e), isLatchkeyError(e) ? { code: e.code } : undefined);
      exitAfterStdout(isLatchkeyError(e) ? e.exitCode : 70);
    },
  );
}
