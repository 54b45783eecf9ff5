/**
 * The gate's and the status endpoint's settings, validated before anything starts: a bad
 * URL or hook command is a one-line error naming the flag, env var or config key at fault.
 */
import { invalid, type Settings } from "../config/settings.ts";
import { parseTarget, type Target } from "../health/target.ts";
import { parseAddr, type Addr } from "../status/addr.ts";
import { splitWords } from "./split.ts";

export interface GateConfig {
  waits: Target[];
  waitTimeoutMs: number;
  preStart: Array<{ raw: string; argv: string[] }>;
  statusAddr?: Addr;
  ready?: Target;
}

export function loadGateConfig(s: Settings, env: NodeJS.ProcessEnv, mode: { exec: boolean }): GateConfig {
  const waitOrigin = s.origin("wait");
  const waits = s.list("wait").map((raw) => parseTarget(raw.trim(), (v, why) => invalid(waitOrigin!, v, why)));
  const waitTimeoutMs = s.duration("wait-timeout") ?? 60_000;
  if (waitTimeoutMs <= 0) throw invalid(s.origin("wait-timeout")!, s.string("wait-timeout")!, "expected a duration above 0");

  const hookOrigin = s.origin("pre-start");
  // Commands contain commas: the env var holds one command per line (envSeparator in the flag table).
  const hookLines = s.list("pre-start");
  const preStart = hookLines.map((raw) => {
    const words = splitWords(raw);
    if (!Array.isArray(words)) throw invalid(hookOrigin!, raw, words.error);
    if (words.length === 0 || words[0] === "") throw invalid(hookOrigin!, raw, "empty command");
    return { raw, argv: words };
  });

  const config: GateConfig = { waits, waitTimeoutMs, preStart };
  const addrRaw = s.string("status-addr");
  if (addrRaw !== undefined) {
    const addr = parseAddr(addrRaw);
    if (!addr) throw invalid(s.origin("status-addr")!, addrRaw, "expected HOST:PORT, e.g. 127.0.0.1:8080 or :8080");
    // With --exec latchkey becomes the app: nothing would be left to serve the endpoint.
    if (mode.exec) throw invalid(s.origin("status-addr")!, addrRaw, "the status endpoint needs supervise mode; remove --exec");
    config.statusAddr = addr;
  }
  const readyRaw = s.string("ready");
  if (readyRaw !== undefined) {
    if (!config.statusAddr) throw invalid(s.origin("ready")!, readyRaw, "--ready is served by the status endpoint; set --status-addr too");
    config.ready = parseTarget(readyRaw, (v, why) => invalid(s.origin("ready")!, v, why), ["http", "https", "tcp", "unix"]);
  }
  return config;
}
