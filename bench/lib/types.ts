export interface Context {
  /** A snapshot of dist/latchkey taken when the run started (others may rebuild dist/ meanwhile). */
  latchkey: string;
  latchkeySha: string;
  /** The same snapshot of dist/latchkey.cjs (the bundle inside the executable), for diagnostics under plain node. */
  bundle: string;
  /** The pinned Node runtime (the one the single executable is built from). */
  node: string;
  /** BENCH_QUICK=1: fewer runs, for trying the harness out; results say so. */
  quick: boolean;
  log(message: string): void;
}

export interface Benchmark {
  /** Used on the command line (`bench/run NAME`) and as the RESULTS.md section marker. */
  name: string;
  title: string;
  /** Sorts the sections and the order of `bench/run` with no name. */
  order: number;
  /** Runs the benchmark; returns the section's markdown below the heading and run facts. */
  run(ctx: Context): Promise<string>;
}
