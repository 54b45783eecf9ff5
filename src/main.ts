/**
 * latchkey's lifecycle, as a straight line of named steps (tini style):
 *
 *   parse config → load secrets → build child env → validate → gate → drop privileges
 *     → exec | spawn+supervise (+ watch for rotation) → exit
 *
 * Each step returns a value or throws a LatchkeyError that carries its exit code. Steps that
 * only some runs take (check, --user, --exec) are imported when taken: a plain start does not
 * run their modules' top level.
 */
import { ExitCode, isLatchkeyError, LatchkeyError } from "./errors.ts";
import { parseCommandLine, type ParsedArgs } from "./cli/parse.ts";
import { usage, VERSION } from "./cli/usage.ts";
import { guardStartup } from "./cli/startup-signals.ts";
import { loadRunConfig, type RunConfig } from "./config/run-config.ts";
import { log } from "./log/logger.ts";
import { redactor } from "./log/redact.ts";
import { registerConcerns } from "./register.ts";
import { prepareLaunch } from "./launch/prepare.ts";
import { buildChildEnv } from "./env/child-env.ts";
import { assertExecFits } from "./env/exec-limits.ts";
import { prepareEnv, type PreparedEnv } from "./env/prepare.ts";
import { validateSecrets } from "./env/required.ts";
import { installSsh, sshTarget } from "./ssh/install.ts";
import { closeSources, setRunSettings } from "./sources/source.ts";
import { activePolicies } from "./policy/active.ts";
import { loadGateConfig } from "./gate/config.ts";
import { gateStages } from "./gate/stages.ts";
import { runGate } from "./gate/gate.ts";
import { startStatus } from "./status/index.ts";
import { recordInitialLoad } from "./status/freshness.ts";
import { rotationRules } from "./watch/config.ts";
import { loadRotationOptions } from "./watch/options.ts";
import { gateVetter, pipelineLoader, secretSetFrom } from "./watch/pipeline.ts";
import { setupRotation } from "./watch/setup.ts";
import { hideTemplateOnly, prepareTemplates } from "./template/index.ts";
import { templateOnly } from "./template/config.ts";
import { supervise } from "./supervisor/supervise.ts";
import { silenceExperimentalWarnings } from "./platform/warnings.ts";
import { checkPassFds, sealDescriptors, sealSelf } from "./platform/boundary.ts";
import { undoRuntimeEnvFile } from "./cli/runtime-env-file.ts";
import { exitAfterStdout, writeStdout } from "./cli/stdout.ts";

export async function main(argv: string[]): Promise<number> {
  silenceExperimentalWarnings();
  undoRuntimeEnvFile(argv); // before anything reads the environment
  registerConcerns();

  const args = parseCommandLine(argv);
  if (args.subcommand === "help") return print(usage());
  if (args.subcommand === "version") return print(`latchkey ${VERSION} (node ${process.version})\n`);
  // The steps below read the environment from this copy: every read of process.env is a call
  // into Node's C++ environment store, and they make ~160 (each setting's LATCHKEY_ name, per
  // layer of settings) and walk all of it twice; the copy costs one walk: ~0.1 ms less a start,
  // measured here. Nothing writes process.env from here on.
  const environment: NodeJS.ProcessEnv = { ...process.env };
  if ((args.subcommand as string) === "health") return (await import("./health/command.ts")).runHealth(args, environment);
  sealSelf(); // not dumpable, no core: environ holds bootstrap credentials, and soon the heap holds secrets
  const startup = guardStartup(log, closeSources); // stop signals end startup until the gate takes them

  // Parse config.
  const config = configure(args, environment);
  checkPassFds(config.boundary.passFds, config.settings.origin("pass-fd")?.label ?? "--pass-fd");
  sealDescriptors(); // nothing latchkey inherited reaches what it starts, but --pass-fd ones, at the app's start
  const gateConfig = loadGateConfig(config.settings, environment, config);
  const rotationOpts = loadRotationOptions(config.settings);
  const identity = config.user ? (await import("./privileges/identity.ts")).resolveIdentity(config.user) : undefined;

  // Load secrets and build the app's environment (latchkey's own stays untouched).
  if ((args.subcommand as string) === "check") (await import("./sources/vault/write.ts")).planWritesOnly(); // check looks, never writes
  const prepared = await loadSecrets(config, args, environment);
  const env = hideTemplateOnly(buildChildEnv(environment, identity, prepared), templateOnly(config.settings));
  assertExecFits(args.command, env); // E2BIG found here, in check too, not at spawn after the gate
  const ssh = sshTarget(identity, config.secrets.sshDir);
  if ((args.subcommand as string) === "check") return (await import("./check/command.ts")).checkCommand({ args, config, prepared, env, identity, ssh, gateConfig });

  // Validate: required secrets, the command, the user switch — all before anything starts.
  validateSecrets(prepared, config.secrets);
  recordInitialLoad(prepared.secrets);
  const spec = prepareLaunch(args.command, env, identity, config.boundary);
  if (identity) {
    const { assertCanBecome, keepSignalReach } = await import("./privileges/drop.ts");
    assertCanBecome(identity);
    if (!config.exec) keepSignalReach(identity, log);
  }
  installSsh(prepared.ssh, ssh); // before the gate: pre-start hooks run as the app user and may need the keys
  // Templates rendered in memory now: a missing variable fails here, before the gate; written below.
  const templates = await prepareTemplates(config.settings, { env, prepared, rotation: rotationOpts, ...(identity ? { identity } : {}) });

  // Gate: dependencies and pre-start hooks; it holds the stop signals while it runs.
  const stages = gateStages(gateConfig, spec, config.supervise.stopTimeout);
  const status = await startStatus(gateConfig, log);
  const gating = runGate(stages, log, status?.state.gateDone.bind(status.state), { holdSignals: true });
  startup.release(); // after the gate took the stop signals: no moment without an owner, no handle closed and reopened
  const gate = await gating;

  // Rotation renders --render files now and watches secrets once the app runs (supervise mode).
  const rotation = setupRotation({
    spec, supervise: config.supervise, opts: rotationOpts, log, rules: rotationRules(),
    ...(identity ? { identity } : {}),
    initial: secretSetFrom(prepared, env, config.secrets, log),
    load: pipelineLoader({ secrets: config.secrets, log, hide: templateOnly(config.settings), ...(identity ? { identity } : {}) }),
    vet: gateVetter(gateConfig, spec, config.supervise.stopTimeout, log),
    exec: config.exec,
    ...(templates ? { templates } : {}),
  });

  // Run the app: become it, or supervise it (privileges are dropped in the app's process).
  try {
    if (config.exec) return (await import("./launch/exec.ts")).execInto(spec);
    const exited = supervise(spec, { ...config.supervise, ...(status ? { onEvent: status.state.onEvent } : {}) }, log, rotation.hooks);
    gate.release(); // supervise has its own signal listeners by now
    return await exited;
  } catch (e) {
    throw rotation.abandon(e); // if the app never ran, what --render wrote for it is removed
  }
}

function configure(args: ParsedArgs, environment: NodeJS.ProcessEnv): RunConfig {
  const config = loadRunConfig(args, environment);
  log.level = config.logLevel;
  log.format = config.logFormat;
  for (const w of config.warnings) log.warn(w);
  setRunSettings(config.settings);
  activePolicies(config.settings); // every policy file read now: a broken one fails a run that uses no reference too
  return config;
}

/** Load secrets; for `check --format json` a failure is also reported as JSON on stdout. */
async function loadSecrets(config: RunConfig, args: ParsedArgs, environment: NodeJS.ProcessEnv): Promise<PreparedEnv> {
  try {
    return await prepareEnv(environment, config.secrets, log);
  } catch (e) {
    if ((args.subcommand as string) === "check" && config.format === "json" && isLatchkeyError(e)) {
      writeStdout(redactor.redact((await import("./check/check.ts")).checkFailureJson(e)));
    }
    throw e;
  }
}

function print(text: string): number {
  writeStdout(text);
  return ExitCode.OK;
}

/** Entry point: run, report a failure on one line, exit with the documented code. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => void closeSources().finally(() => exitAfterStdout(code)),
    (e: unknown) => {
      const err = isLatchkeyError(e)
        ? e
        : new LatchkeyError("internal", ExitCode.INTERNAL, `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      // The logger escapes control characters, so a whole message is one line; an internal
      // error's stack goes to debug only.
      if (err.code === "internal") log.error(err.message.split("\n")[0]!);
      else log.error(err.message, { code: err.code });
      if (err.code === "internal" && e instanceof Error && e.stack) log.debug(e.stack);
      // The app never started (or has exited): revoke the Vault token and leases latchkey obtained.
      void closeSources().finally(() => exitAfterStdout(err.exitCode));
    },
  );
}
