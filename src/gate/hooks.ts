/**
 * --pre-start hooks (migrations, cache warm-up): run one after another once the waits pass,
 * started exactly like the app (same exec shim, so the app user's supplementary groups and
 * HOME are right; same environment with the secrets). A hook that fails stops the start.
 */
import { resolveCommand, type Runner } from "../launch/resolve.ts";
import type { Identity } from "../privileges/identity.ts";
import { Child } from "../supervisor/child.ts";
import type { SignalName } from "../supervisor/signals.ts";
import type { GateStage, ItemReport, StageReport } from "./stage.ts";
import { now } from "../platform/clock.ts";

export interface Hook {
  /** As written; shown in the report (the environment, where secrets are, never is). */
  raw: string;
  argv: string[];
  /** Resolved before the gate starts, so a typo fails at once instead of after the waits. */
  path: string;
}

export function resolveHooks(cmds: ReadonlyArray<{ raw: string; argv: string[] }>, env: Record<string, string>, runner: Runner): Hook[] {
  return cmds.map((c) => ({ ...c, path: resolveCommand(c.argv[0]!, env.PATH, runner) }));
}

export interface HooksOptions {
  env: Record<string, string>;
  identity?: Identity;
  /** After the gate is interrupted: how long a hook gets to exit before SIGKILL (ms; 0 = at once). */
  stopTimeoutMs: number;
}

export function hooksStage(hooks: readonly Hook[], opts: HooksOptions): GateStage {
  return {
    name: "pre-start",
    async run(signal): Promise<StageReport> {
      const t0 = now();
      const items: ItemReport[] = [];
      let ok = true;
      for (const h of hooks) {
        if (!ok || signal.aborted) {
          items.push({ name: h.raw, state: "not run", reason: "skipped", cause: "not run", detail: "not run (an earlier step failed)", ms: 0 });
          continue;
        }
        const r = await runHook(h, opts, signal);
        items.push(r);
        ok = r.state === "passed";
      }
      return { stage: "pre-start", ok, ms: now() - t0, items };
    },
  };
}

async function runHook(h: Hook, opts: HooksOptions, signal: AbortSignal): Promise<ItemReport> {
  const t0 = now();
  const child = Child.start({ path: h.path, argv: h.argv, env: opts.env, foreground: false, ...(opts.identity ? { identity: opts.identity } : {}) });
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    // The whole group: a hook is often a script whose real work is in its children.
    const sig = (typeof signal.reason === "string" && signal.reason.startsWith("SIG") ? signal.reason : "SIGTERM") as SignalName;
    child.signal(sig, true);
    killTimer = setTimeout(() => child.signal("SIGKILL", true), opts.stopTimeoutMs);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const status = await child.exited;
  signal.removeEventListener("abort", onAbort);
  if (killTimer) clearTimeout(killTimer);
  // Leftovers of a hook (a daemon it forked) must not outlive the gate.
  if (child.groupAlive()) child.signal("SIGKILL", true);
  const ms = now() - t0;
  if (signal.aborted) {
    const cause = status.signal ? `stopped by ${status.signal}` : `exited with code ${status.code}`;
    return { name: h.raw, state: "cancelled", reason: "interrupted", cause, detail: `${cause} (gate interrupted)`, ms };
  }
  if (status.exitCode === 0) return { name: h.raw, state: "passed", reason: "ok", cause: "exited 0", detail: "exited 0", ms };
  const cause = status.signal ? `killed by ${status.signal} (exit status ${status.exitCode})` : `exited with code ${status.code}`;
  return { name: h.raw, state: "failed", reason: "exit", cause, detail: cause, ms };
}
