/**
 * Wiring rotation into supervise mode, for main.ts: one call before the app starts (checks
 * options, renders files), hooks for supervise(), and the controller started once the first
 * app runs. Keeps main.ts a straight line.
 */
import type { Logger } from "../log/logger.ts";
import type { LaunchSpec } from "../launch/spec.ts";
import type { Identity } from "../privileges/identity.ts";
import type { SuperviseHooks, SuperviseOptions, ExitDecision } from "../supervisor/supervise.ts";
import type { Child, ExitStatus } from "../supervisor/child.ts";
import { Runner } from "../supervisor/runner.ts";
import type { SignalName } from "../supervisor/signals.ts";
import { Renderer } from "../render/render.ts";
import { RotationController } from "./controller.ts";
import type { RotationOptions } from "./options.ts";
import type { ActionRules, LoadSecretSet, SecretSet } from "./secret-set.ts";

export interface RotationWiring {
  /** Pass to supervise(). */
  hooks: SuperviseHooks;
  runner: Runner;
  controller: RotationController | null;
  /** For an error that ends the start before the app ran: removes what --render wrote, returns the error. */
  abandon(e: unknown): unknown;
}

export interface RotationInputs {
  spec: LaunchSpec;
  supervise: Pick<SuperviseOptions, "table" | "signalGroup" | "stopTimeout" | "grace">;
  opts: RotationOptions;
  identity?: Identity;
  /** The set the first app starts with; null when secrets are not watched (nothing loaded). */
  initial: SecretSet | null;
  load: LoadSecretSet | null;
  rules?: ActionRules;
  vet?: (set: SecretSet, signal: AbortSignal) => Promise<void>;
  /** --exec: latchkey is gone once the app starts; only --render applies. */
  exec?: boolean;
  log: Logger;
}

/** How long after the first app start the watches are armed. */
export const WATCH_DELAY_MS = 50;

/** Everything that can fail happens here, before the app starts (render dir unusable...). */
export function setupRotation(i: RotationInputs): RotationWiring {
  if (i.exec && i.opts.explicit.length > 0) {
    i.log.warn(`${i.opts.explicit.join(", ")}: no effect with --exec (rotation needs supervise mode)`);
  }
  const renderer = i.opts.render ? new Renderer(i.opts.render, i.identity) : undefined;
  if (renderer && i.initial) renderer.render(i.initial.secrets);
  let started = false;
  // A start that fails after rendering (the app cannot be executed...) leaves no secret files.
  const abandon = (e: unknown) => {
    if (!started) renderer?.remove();
    return e;
  };
  const runner = new Runner(i.spec, { ...i.supervise, restartSplay: i.opts.restartSplay, restartOnExit: i.opts.restartOnExit }, i.log);
  const controller = i.initial && i.load
    ? new RotationController(i.initial, {
        opts: i.opts, load: i.load, actuator: runner, log: i.log,
        ...(i.rules ? { rules: i.rules } : {}),
        ...(renderer ? { renderer } : {}),
        ...(i.vet ? { vet: i.vet } : {}),
      })
    : null;
  let startTimer: NodeJS.Timeout | null = null;
  const close = () => {
    if (startTimer) clearTimeout(startTimer);
    startTimer = null;
    controller?.close();
  };
  const hooks: SuperviseHooks = {
    started(child: Child) {
      runner.started(child);
      const first = !started;
      started = true;
      if (first && controller) {
        // Armed a moment after the app starts, not in the same turn: setting up the watches
        // (an inotify watch per file and directory) then runs beside the app's own start
        // instead of before latchkey notices a short-lived app's exit. Nothing is missed: the
        // controller's first look compares against the set the app started with.
        startTimer = setTimeout(() => {
          startTimer = null;
          controller.start();
        }, WATCH_DELAY_MS);
      }
    },
    stopSignal(sig: SignalName) {
      runner.stopSignal(sig);
      close();
    },
    async exited(child: Child, status: ExitStatus): Promise<ExitDecision> {
      const next = await runner.exited(child, status);
      if ("exitCode" in next) close();
      return next;
    },
  };
  return { hooks, runner, controller, abandon };
}
