/**
 * `latchkey check`: everything up to the start of the app, then a report instead of the app.
 * It shares every step with a real start (main.ts), so it fails with the same errors.
 */
import { ExitCode, usageError } from "../errors.ts";
import type { ParsedArgs } from "../cli/parse.ts";
import type { RunConfig } from "../config/run-config.ts";
import type { PreparedEnv } from "../env/prepare.ts";
import type { GateConfig } from "../gate/config.ts";
import { gateStages } from "../gate/stages.ts";
import { runGate } from "../gate/gate.ts";
import { prepareLaunch } from "../launch/prepare.ts";
import { log } from "../log/logger.ts";
import { assertCanBecome } from "../privileges/drop.ts";
import type { Identity } from "../privileges/identity.ts";
import type { SshTarget } from "../ssh/install.ts";
import { runCheck } from "./check.ts";
import { readFingerprintKey } from "./fingerprint.ts";
import { writeStdout } from "../cli/stdout.ts";

export interface CheckInput {
  args: ParsedArgs;
  config: RunConfig;
  prepared: PreparedEnv;
  env: Record<string, string>;
  identity: Identity | undefined;
  ssh: SshTarget;
  gateConfig: GateConfig;
}

export async function checkCommand(c: CheckInput): Promise<number> {
  const { args, config, env, identity } = c;
  const keyFile = config.settings.string("fingerprint-key-file");
  const fingerprintKey = keyFile ? readFingerprintKey(keyFile, config.settings.origin("fingerprint-key-file")!.label) : undefined;
  const failed = await runCheck({
    prepared: c.prepared, opts: config.secrets, ssh: c.ssh, format: config.format,
    ...(fingerprintKey ? { fingerprintKey } : {}),
    ...(config.configFile ? { configFile: config.configFile } : {}),
    ...(identity ? { user: identity.spec } : {}),
    ...(args.command.length ? { launch: () => checkLaunch(args.command, env, identity) } : {}),
    ...(config.settings.boolean("check-gate") ? { extra: () => checkGate(args.command, env, identity, c.gateConfig, config) } : {}),
  }, writeStdout);
  if (failed) throw failed;
  return ExitCode.OK;
}

function checkLaunch(command: string[], env: Record<string, string>, identity?: Identity): string {
  const spec = prepareLaunch(command, env, identity);
  if (identity) assertCanBecome(identity);
  return spec.path;
}

/** `check --check-gate`: the startup gate too; its waits and pre-start hooks run for real. */
async function checkGate(command: string[], env: Record<string, string>, identity: Identity | undefined,
  gateConfig: GateConfig, config: RunConfig): Promise<void> {
  if (command.length === 0) throw usageError("check --check-gate needs the app's command after '--' (pre-start hooks run as the app would)");
  const spec = prepareLaunch(command, env, identity);
  const gate = await runGate(gateStages(gateConfig, spec, config.supervise.stopTimeout), log);
  gate.release();
}
