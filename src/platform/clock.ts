/**
 * A monotonic clock in milliseconds. Not `performance.now()`: the global `performance` is
 * loaded from node:perf_hooks on first use (~0.5 ms of a start, measured here), and the
 * startup gate reads the clock even when it has nothing to check.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
