import { EXIT_CODE_TABLE } from "../errors.ts";
import { allFlags, GROUP_TITLES, type FlagDef } from "./flags.ts";

export const VERSION = process.env.LATCHKEY_BUILD_VERSION_PLACEHOLDER ?? "0.1.0";

const subcommandHelp: Array<[string, string]> = [
  ["latchkey [options] -- COMMAND [ARGS...]", "run COMMAND (the default subcommand, also 'run')"],
  ["latchkey version", "print the version"],
  ["latchkey help", "print this help"],
];
/** Other concerns add their subcommands' synopsis lines. */
export function registerSubcommandHelp(synopsis: string, text: string): void {
  subcommandHelp.push([synopsis, text]);
}

export function usage(): string {
  const lines: string[] = [];
  lines.push("latchkey: load secrets, gate startup, drop privileges and run your app as a real PID 1", "");
  lines.push("Usage:");
  for (const [s, t] of subcommandHelp) lines.push(`  ${s}`, `      ${t}`);
  lines.push("", "Every option can also be set by the environment variable shown after it.", "");
  const groups = new Map<string, FlagDef[]>();
  for (const f of allFlags()) {
    const list = groups.get(f.group) ?? [];
    list.push(f);
    groups.set(f.group, list);
  }
  for (const [group, flags] of groups) {
    lines.push(`${GROUP_TITLES[group] ?? group}:`);
    for (const f of flags) {
      const short = f.short ? `-${f.short}, ` : "";
      const value = f.type === "string" ? ` ${f.value ?? "VALUE"}` : "";
      const env = f.env ? `  [${f.env}]` : "";
      lines.push(`  ${short}--${f.name}${value}${env}`);
      const def = f.default !== undefined ? ` (default ${f.default})` : "";
      lines.push(`      ${f.help}${def}`);
    }
    lines.push("");
  }
  lines.push("Exit codes:");
  for (const e of EXIT_CODE_TABLE) lines.push(`  ${e.name === "128+n" ? "128+n" : String(e.code).padEnd(5)} ${e.meaning}`);
  return lines.join("\n") + "\n";
}
