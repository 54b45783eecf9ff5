/**
 * Hand back what the start used, once latchkey has only to wait, and what its polls left since
 * (issue 15: at most 10 MB of anonymous memory idle with no provider, flat over an hour;
 * bench/run providers-soak).
 *
 * Measured here (`/proc/PID/smaps_rollup` of an idle `latchkey -- sleep infinity`): a Node
 * single executable that only supervises a child idles at 8.6 MB, of which 1 MB is the
 * runtime's own (abseil's deadlock-detection graph, allocated before any JavaScript runs).
 * latchkey settled at 10.1 MB after its start, and then, at V8's first memory-reducing
 * collection about a minute later, either at 9.9 MB or at 10.9 MB for good (half of the runs
 * each): V8 compacts into fresh pages and gives back the old ones only sometimes.
 * One collection of the kind V8 makes before it would run out of memory (every space
 * compacted, its page pool returned to the system) 2 s after the app started: 9.7-9.8 MB.
 * The file poll (once a minute by default, the inotify safety net) and the reaper's look
 * then allocate a few KB each, which creeps up page by page (+0.1 MB in 8 minutes): the same
 * collection every 5 minutes holds it. The young-generation size, the page pool, minor
 * mark-sweep, a plain major collection and malloc_trim were each measured and did not get there.
 *
 * Each collection takes ~12 ms of CPU (more with providers' larger heaps), off the start path;
 * it waits while an orphan storm lasts, and its timer never keeps latchkey alive.
 */
import type { Logger } from "../log/logger.ts";
import { now } from "./clock.ts";

const SETTLE_AFTER_MS = 2000;
const SETTLE_EVERY_MS = 5 * 60_000;

/**
 * Collect SETTLE_AFTER_MS from now and then every SETTLE_EVERY_MS, until cancelled (call the
 * returned function). While `busy()` says so (the reaper in an orphan storm: a pause there
 * lets zombies pile up), it tries again SETTLE_AFTER_MS later.
 */
export function settleWhileRunning(log: Logger, busy: () => boolean = () => false, firstMs = SETTLE_AFTER_MS, everyMs = SETTLE_EVERY_MS): () => void {
  let timer: NodeJS.Timeout;
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      if (busy()) return arm(firstMs);
      // Only memory is at stake: a runtime that will not collect on request (dist/latchkey.cjs
      // on another Node) is said once at debug level and left alone, never a supervisor crash.
      try {
        settle(log);
      } catch (e) {
        log.debug("memory not settled: the runtime refused a collection; not trying again", { error: (e as Error).message });
        return;
      }
      arm(everyMs);
    }, ms);
    timer.unref();
  };
  arm(firstMs);
  return () => clearTimeout(timer);
}

type Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

function settle(log: Logger): void {
  const v8 = process.getBuiltinModule("node:v8") as typeof import("node:v8");
  const vm = process.getBuiltinModule("node:vm") as typeof import("node:vm");
  let gc: Gc;
  // V8 gives the `gc` function only to contexts made while --expose-gc is on; latchkey's own
  // global never gets it, and the flag is off again before anything else can compile (it is
  // part of the flags V8 checks a code cache against).
  v8.setFlagsFromString("--expose-gc");
  try {
    gc = vm.runInNewContext("gc") as Gc;
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
  const before = v8.getHeapStatistics();
  const t0 = now();
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
  const after = v8.getHeapStatistics();
  log.debug("memory settled", {
    ms: Math.round((now() - t0) * 10) / 10,
    heapMB: mb(before.total_heap_size),
    heapAfterMB: mb(after.total_heap_size),
    usedMB: mb(before.used_heap_size),
    usedAfterMB: mb(after.used_heap_size),
  });
}

const mb = (n: number) => Math.round((n / 1048576) * 100) / 100;
