/**
 * `latchkey health URL` and `latchkey health --status [kind]`: one probe, one line, exit 0
 * (healthy) or 1 (unhealthy). It runs every few seconds in every container, so this module
 * and its imports stay small: no supervisor, no secret sources, no TLS unless the URL is https.
 */
import { usageError } from "../errors.ts";
import type { ParsedArgs } from "../cli/parse.ts";
import { invalid, Settings } from "../config/settings.ts";
import { clientUrl, parseAddr } from "../status/addr.ts";
import { formatMs, probe } from "./probe.ts";
import { parseTarget, type Target } from "./target.ts";
import { now } from "../platform/clock.ts";
import { writeStdout } from "../cli/stdout.ts";
import { escapeText } from "../log/logger.ts";

export const HEALTHY = 0;
export const UNHEALTHY = 1;
const STATUS_KINDS = ["liveness", "readiness", "startup"] as const;

export async function runHealth(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const s = new Settings({ flags: args.flags, env });
  const timeoutMs = s.duration("timeout") ?? 5_000;
  if (timeoutMs <= 0) throw invalid(s.origin("timeout")!, s.string("timeout")!, "expected a duration above 0");
  const target = s.boolean("status") ? statusTarget(args, s) : urlTarget(args);

  const t0 = now();
  const a = await probe(target, { timeoutMs: target.timeoutMs ?? timeoutMs });
  const took = formatMs(now() - t0);
  // One line whatever the detail quotes (an error message from the peer's side of a socket).
  writeStdout(escapeText(`${a.ok ? "healthy" : "unhealthy"}: ${target.display}: ${a.detail} (${took})`) + "\n");
  return a.ok ? HEALTHY : UNHEALTHY;
}

function urlTarget(args: ParsedArgs): Target {
  if (args.operands.length !== 1) {
    throw usageError(args.operands.length === 0
      ? "health: missing URL; write: latchkey health http://127.0.0.1:8080/health (or tcp://HOST:PORT, unix:///PATH, or --status)"
      : `health: one URL only (got ${args.operands.length})`);
  }
  return parseTarget(args.operands[0]!, (v, why) => usageError(`health: invalid URL '${v}': ${why}`), ["http", "https", "tcp", "unix"]);
}

function statusTarget(args: ParsedArgs, s: Settings): Target {
  const kind = args.operands[0];
  if (args.operands.length > 1 || (kind !== undefined && !(STATUS_KINDS as readonly string[]).includes(kind))) {
    throw usageError(`health --status: expected nothing or one of ${STATUS_KINDS.join(", ")}, got '${args.operands.join(" ")}'`);
  }
  const raw = s.string("status-addr");
  if (raw === undefined) {
    throw usageError("health --status: no status address; set --status-addr HOST:PORT or LATCHKEY_STATUS_ADDR (as for the supervisor)");
  }
  const addr = parseAddr(raw);
  if (!addr) throw invalid(s.origin("status-addr")!, raw, "expected HOST:PORT, e.g. 127.0.0.1:8080");
  const url = clientUrl(addr, kind ? `/health/${kind}` : "/health");
  return parseTarget(url, (v, why) => usageError(`health: ${v}: ${why}`), ["http"]);
}

