/** Facts about the machine and the build under test, written next to every result. */
import { cpus, loadavg, release, totalmem, availableParallelism } from "node:os";
import { execFileSync } from "node:child_process";
import { root } from "./paths.ts";

export interface Load {
  /** 1-minute load averages seen at the start and the end of a benchmark. */
  start: number;
  end: number;
}

export function loadNow(): number {
  return loadavg()[0]!;
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

/** The tree's commit, and whether src/ or build/ differ from it (what the binary was built from). */
export function treeCommit(): string {
  const commit = git(["rev-parse", "--short=12", "HEAD"]) || "unknown";
  const dirty = git(["status", "--porcelain", "--", "src", "build"]) ? " (src/ or build/ with uncommitted changes)" : "";
  return commit + dirty;
}

export function machineFacts(latchkeySha: string): string {
  return [
    `nproc ${availableParallelism()} (${cpus()[0]?.model ?? "unknown cpu"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM,`,
    `kernel ${release()}, node ${process.version}, commit ${treeCommit()}, dist/latchkey sha256 ${latchkeySha.slice(0, 12)}`,
  ].join(" ");
}

/**
 * The machine is shared with other agents running builds and tests: say how busy it was.
 * "Under load" once the 1-minute load reaches a quarter of the cores.
 */
export function loadNote(load: Load): string {
  const n = availableParallelism();
  const peak = Math.max(load.start, load.end);
  const words = peak >= n / 4 ? "**measured under load**" : "measured on a quiet machine";
  return `${words}: 1-minute load average ${load.start.toFixed(2)} at the start, ${load.end.toFixed(2)} at the end, on ${n} cores (shared with other agents' builds and tests; medians are the figures to trust)`;
}
