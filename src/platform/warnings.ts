/**
 * `node:ffi` and `process.execve` are experimental in Node 26 and print a warning on first
 * use. The single executable bakes `--no-warnings`; the .cjs bundle run by a plain `node`
 * does not, and the warning would land in the app's stderr. Drop exactly those warnings.
 */
export function silenceExperimentalWarnings(): void {
  const original = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === "ExperimentalWarning") return;
    (original as (...a: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
