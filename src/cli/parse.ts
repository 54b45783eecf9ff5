import { parseArgs } from "node:util";
import { usageError } from "../errors.ts";
import { allFlags } from "./flags.ts";

export const SUBCOMMANDS = ["run", "version", "help"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** The name under which latchkey re-executes itself as the exec shim (see launch/shim.ts). */
export { SHIM_ARG } from "../launch/shim-arg.ts";

export interface ParsedArgs {
  subcommand: Subcommand;
  /** Flag values as given on the command line (only those given). */
  flags: Record<string, string | boolean | string[]>;
  /** Positionals before `--` that follow the subcommand (e.g. `health URL`). */
  operands: string[];
  /** COMMAND and ARGS after `--`. */
  command: string[];
}

let extraSubcommands: string[] = [];
/** Later concerns add subcommands (check, health) without editing the parser. */
export function registerSubcommand(name: string): void {
  if (!extraSubcommands.includes(name)) extraSubcommands = [...extraSubcommands, name];
}
function knownSubcommands(): string[] {
  return [...SUBCOMMANDS, ...extraSubcommands];
}

/**
 * `latchkey [options] -- COMMAND [ARGS...]`, `latchkey SUBCOMMAND [options] [operands]`.
 * Everything after the first `--` belongs to the app, untouched.
 */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  const dd = argv.indexOf("--");
  const own = dd === -1 ? [...argv] : argv.slice(0, dd);
  const command = dd === -1 ? [] : argv.slice(dd + 1);

  const { values, positionals } = own.length === 0 ? NOTHING_GIVEN : (booleanFlagsOnly(own) ?? parseOwn(own, dd === -1));
  const flags = values as Record<string, string | boolean | string[]>;

  let subcommand: string = "run";
  let operands: string[] = [];
  if (positionals.length > 0) {
    const first = positionals[0]!;
    if (knownSubcommands().includes(first)) {
      subcommand = first;
      operands = positionals.slice(1);
    } else {
      throw usageError(
        `unexpected argument '${first}' before '--'; write: latchkey [options] -- ${first} ...` +
          ` (subcommands: ${knownSubcommands().join(", ")})`,
      );
    }
  }
  if (flags.help) subcommand = "help";
  else if (flags.version) subcommand = "version";

  if (subcommand === "run") {
    if (operands.length > 0) throw usageError(`'run' takes no operands before '--': ${operands[0]}`);
    if (dd === -1) throw usageError("missing '--' before the command; write: latchkey [options] -- COMMAND [ARGS...]");
    if (command.length === 0 || command[0] === "") throw usageError("no command after '--'");
  } else if (dd !== -1 && command.length > 0 && subcommand !== "help" && subcommand !== "version" && !acceptsCommand(subcommand)) {
    throw usageError(`'${subcommand}' does not run a command; remove everything after '--'`);
  }
  return { subcommand: subcommand as Subcommand, flags, operands, command };
}

/**
 * `latchkey -- COMMAND` (the usual ENTRYPOINT: settings come from the environment and the
 * config file) has nothing to parse: what parseArgs returns for no arguments, without loading
 * it (~0.5 ms of a start, measured here).
 */
const NOTHING_GIVEN = { values: Object.freeze(Object.create(null) as Record<string, never>), positionals: [] as string[] };

/**
 * `latchkey --exec -- COMMAND` and the like: boolean flags only, each written `--name`. What
 * parseArgs returns for them (a null-prototype object, true for each), without building its
 * option table or loading it: that cost made --exec slower than supervise mode (issue 15).
 * Anything else (a value, a short flag, `--`-less positionals) goes to parseOwn; the test
 * holds the two to the same answers.
 */
function booleanFlagsOnly(own: readonly string[]): { values: Record<string, unknown>; positionals: string[] } | undefined {
  const values = Object.create(null) as Record<string, unknown>;
  for (const a of own) {
    if (a.length < 3 || a[0] !== "-" || a[1] !== "-") return undefined;
    const name = a.slice(2);
    const f = allFlags().find((d) => d.name === name);
    if (f?.type !== "boolean" || f.multiple) return undefined;
    values[name] = true;
  }
  return { values, positionals: [] };
}

/** The full parser (exported for the test that compares booleanFlagsOnly with it). */
export function parseOwn(own: string[], noDoubleDash: boolean): { values: Record<string, unknown>; positionals: string[] } {
  const options: Record<string, { type: "boolean" | "string"; short?: string; multiple?: boolean }> = {};
  for (const f of allFlags()) {
    options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  try {
    return parseArgs({ args: joinNegativeValues(own, options), options, strict: true, allowPositionals: true });
  } catch (e) {
    // `latchkey gunicorn --bind ...` (no --) fails on the app's own flag: say what was meant
    const hint = noDoubleDash && own.some((a) => !a.startsWith("-")) ? "; to run a command write: latchkey [options] -- COMMAND [ARGS...]" : "";
    throw usageError(describeParseError(e) + hint);
  }
}

/**
 * `--stop-timeout -1s`: parseArgs refuses a value that starts with `-` as "ambiguous" (it could
 * be a forgotten value followed by a flag). A dash and then no letter (`-1s`, `-`, `- `) is never
 * one of our flags, so hand it over as `--stop-timeout=-1s` and let the option's own check say
 * what is wrong with it. `--user --exec` stays an error: that one may be a forgotten value.
 */
function joinNegativeValues(args: string[], options: Record<string, { type: "boolean" | "string"; short?: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const opt = a.startsWith("--") ? options[a.slice(2)] : a.length === 2 && a[0] === "-" ? Object.values(options).find((o) => o.short === a[1]) : undefined;
    if (opt?.type === "string" && next !== undefined && notAnOption(next)) {
      out.push(a.startsWith("--") ? `${a}=${next}` : `${a}${next}`);
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function notAnOption(arg: string): boolean {
  if (arg[0] !== "-") return false;
  if (arg.length === 1) return true;
  const c = arg.charCodeAt(1);
  return c !== 45 && !((c >= 65 && c <= 90) || (c >= 97 && c <= 122)); // not `--x`, not `-x`
}

const commandSubcommands = new Set<string>(["run"]);
export function registerCommandSubcommand(name: string): void {
  registerSubcommand(name);
  commandSubcommands.add(name);
}
function acceptsCommand(sub: string): boolean {
  return commandSubcommands.has(sub);
}

function describeParseError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // node:util messages are long and mention "To specify a positional argument..."; keep the first sentence.
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `unknown option '${unknown[1]}' (see 'latchkey help')`;
  const missing = /Option '([^']+)' argument missing/.exec(msg);
  if (missing) return `option '${missing[1]}' needs a value`;
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(msg);
  if (ambiguous) {
    const o = ambiguous[1]!;
    return `option '${o}' is followed by another option instead of its value; a value that starts with '-' is written ${o.startsWith("--") ? `${o}=VALUE` : `${o}VALUE`}`;
  }
  const first = msg.split(/\.\s/)[0] ?? msg;
  return first.replace(/\.$/, "");
}
