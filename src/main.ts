/**
 * latchkey's lifecycle, as a straight line of named steps (tini style):
 *
 *   parse config → load secrets → build child env → gate → drop privileges → exec | spawn+supervise → exit
 *
 * Each step returns a value or throws a LatchkeyError that carries its exit code.
 */
import { ExitCode, isLatchkeyError, LatchkeyError, usageError } from "./errors.ts";
import { parseCommandLine, SHIM_ARG } from "./cli/parse.ts";
import { usage, VERSION } from "./cli/usage.ts";
import { loadRunConfig, type RunConfig } from "./config/run-config.ts";
import { log } from "./log/logger.ts";
import { runShim } from "./launch/shim.ts";
import { execInto } from "./launch/exec.ts";
import { resolveCommand } from "./launch/resolve.ts";
import type { LaunchSpec } from "./launch/spec.ts";
import { buildChildEnv } from "./env/child-env.ts";
import { resolveIdentity, type Identity } from "./privileges/identity.ts";
import { assertCanBecome, keepSignalReach } from "./privileges/drop.ts";
import { supervise } from "./supervisor/supervise.ts";
import { registerSecretFlags } from "./env/flags.ts";
import { registerSecretSections } from "./env/rules.ts";
import { registerBuiltinSchemes } from "./sources/schemes.ts";
import { closeSources, setRunSettings } from "./sources/source.ts";
import { prepareEnv } from "./env/prepare.ts";
import { validateSecrets } from "./env/required.ts";
import { installSsh, sshTarget } from "./ssh/install.ts";
import { checkFailureJson, runCheck } from "./check/check.ts";
import { redactor } from "./log/redact.ts";
import "./gate/flags.ts";
import { loadGateConfig } from "./gate/config.ts";
import { gateStages } from "./gate/stages.ts";
import { runGate } from "./gate/gate.ts";
import { startStatus } from "./status/index.ts";
import { recordInitialLoad } from "./status/freshness.ts";
import { registerRotationFlags } from "./watch/flags.ts";
import { registerRotationSection, rotationRules } from "./watch/config.ts";
import { loadRotationOptions } from "./watch/options.ts";
import { gateVetter, pipelineLoader, secretSetFrom } from "./watch/pipeline.ts";
import { setupRotation } from "./watch/setup.ts";
import { cachingSource } from "./watch/source-cache.ts";
import { decorateSources } from "./sources/source.ts";
import { silenceExperimentalWarnings } from "./platform/warnings.ts";
import { guardStartup } from "./cli/startup-signals.ts";
import { isatty } from "node:tty";

export async function main(argv: string[]): Promise<number> {
  silenceExperimentalWarnings();
  if (argv[0] === SHIM_ARG) runShim();
  registerSecretFlags();
  registerSecretSections();
  registerBuiltinSchemes();
  registerRotationFlags();
  registerRotationSection();
  decorateSources(cachingSource); // reloads fetch only what changed; leased secrets are not re-minted

  const args = parseCommandLine(argv);
  if (args.subcommand === "help") return print(usage());
  if (args.subcommand === "version") return print(`latchkey ${VERSION} (node ${process.version})\n`);
  if ((args.subcommand as string) === "health") return (await import("./health/command.ts")).runHealth(args, process.env);

  const startup = guardStartup(log, closeSources);
  const config = loadRunConfig(args, process.env);
  log.level = config.logLevel;
  log.format = config.logFormat;
  setRunSettings(config.settings);
  const gateConfig = loadGateConfig(config.settings, process.env, config);
  const rotationOpts = loadRotationOptions(config.settings);

  const identity = config.user ? resolveIdentity(config.user) : undefined;
  const prepared = await loadSecrets(config, (args.subcommand as string) === "check");
  const env = buildChildEnv(process.env, identity, prepared);
  const ssh = sshTarget(identity, config.secrets.sshDir);
  if ((args.subcommand as string) === "check") {
    const failed = await runCheck({
      prepared, opts: config.secrets, ssh, format: config.format,
      ...(config.configFile ? { configFile: config.configFile } : {}),
      ...(identity ? { user: identity.spec } : {}),
      ...(args.command.length ? { launch: () => checkLaunch(args.command, env, identity) } : {}),
      ...(config.settings.boolean("check-gate") ? { extra: () => checkGate(args.command, env, identity, gateConfig, config) } : {}),
    }, (s) => process.stdout.write(redactor.redact(s)));
    if (failed) throw failed;
    return ExitCode.OK;
  }
  validateSecrets(prepared, config.secrets);
  recordInitialLoad(prepared.secrets);
  const spec = prepareLaunch(args.command, env, identity);
  if (identity) assertCanBecome(identity);
  if (identity && !config.exec) keepSignalReach(identity, log);
  // Before the gate: pre-start hooks run as the app user and may need the keys (git clone, ssh).
  installSsh(prepared.ssh, ssh);

  // Gate: checks that need no waiting (above) fail first; then dependencies and hooks.
  const stages = gateStages(gateConfig, spec, config.supervise.stopTimeout);
  const status = await startStatus(gateConfig, log);
  startup.release(); // the gate takes the stop signals in this same synchronous stretch
  const gate = await runGate(stages, log, status?.state.gateDone.bind(status.state), { holdSignals: true });

  // Renders --render files before the app starts; watches secrets once it runs (supervise mode).
  const rotation = setupRotation({
    spec, supervise: config.supervise, opts: rotationOpts, log, rules: rotationRules(),
    ...(identity ? { identity } : {}),
    initial: secretSetFrom(prepared, env, config.secrets, log),
    load: pipelineLoader({ secrets: config.secrets, log, ...(identity ? { identity } : {}) }),
    vet: gateVetter(gateConfig, spec, config.supervise.stopTimeout, log),
    exec: config.exec,
  });
  if (config.exec) return execInto(spec);
  const exited = supervise(spec, { ...config.supervise, ...(status ? { onEvent: status.state.onEvent } : {}) }, log, rotation.hooks);
  gate.release(); // supervise has its own signal listeners by now
  return exited;
}

/** Load secrets; for `check --format json` a failure is also reported as JSON on stdout. */
async function loadSecrets(config: RunConfig, check: boolean): Promise<Awaited<ReturnType<typeof prepareEnv>>> {
  try {
    return await prepareEnv(process.env, config.secrets, log);
  } catch (e) {
    if (check && config.format === "json" && isLatchkeyError(e)) process.stdout.write(redactor.redact(checkFailureJson(e)));
    throw e;
  }
}

/** `check --check-gate`: the startup gate too; its waits and pre-start hooks run for real. */
async function checkGate(command: string[], env: Record<string, string>, identity: Identity | undefined,
  gateConfig: ReturnType<typeof loadGateConfig>, config: RunConfig): Promise<void> {
  if (command.length === 0) throw usageError("check --check-gate needs the app's command after '--' (pre-start hooks run as the app would)");
  const spec = prepareLaunch(command, env, identity);
  const gate = await runGate(gateStages(gateConfig, spec, config.supervise.stopTimeout), log);
  gate.release();
}

function checkLaunch(command: string[], env: Record<string, string>, identity?: Identity): string {
  const spec = prepareLaunch(command, env, identity);
  if (identity) assertCanBecome(identity);
  return spec.path;
}

function prepareLaunch(command: string[], env: Record<string, string>, identity?: Identity): LaunchSpec {
  const runner = identity ?? { uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!() };
  const path = resolveCommand(command[0]!, env.PATH, runner);
  return { path, argv: command, env, ...(identity ? { identity } : {}), foreground: isatty(0) };
}

function print(text: string): number {
  process.stdout.write(text);
  return ExitCode.OK;
}

/** Entry point: run, report a failure on one line, exit with the documented code. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => void closeSources().finally(() => exit(code)),
    (e: unknown) => {
      const err = isLatchkeyError(e)
        ? e
        : new LatchkeyError("internal", ExitCode.INTERNAL, `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      log.error(err.message.split("\n")[0]!, err.code === "internal" ? undefined : { code: err.code });
      if (err.code === "internal" && e instanceof Error && e.stack) log.debug(e.stack);
      // The app never started (or has exited): revoke the Vault token and leases latchkey obtained.
      void closeSources().finally(() => exit(err.exitCode));
    },
  );
}

function exit(code: number): void {
  // stdout may be a pipe with pending writes (help text); let it drain before exiting.
  if (process.stdout.writableLength > 0) process.stdout.once("drain", () => process.exit(code));
  else process.exit(code);
}

export type { RunConfig };
