/**
 * Rotation: decides *when* to act and *whether* anything changed. Detection only produces
 * hints (file events, stat changes, provider versions, lease expiry); each hint goes through
 * the debouncer, then one full load of all sources into a new candidate set which must pass
 * validation, then a compare of resolved values with the last good set. Only a real change of a
 * resolved value leads to the configured action, carried out by the runner.
 *
 * Safety: a load that fails (provider down, throttled, sealed) or a candidate that is
 * invalid leaves the app alone on the last good set; the reason is logged and the look is
 * retried with backoff. There is no path from a failed or partial load to the app.
 */
import { isLatchkeyError } from "../errors.ts";
import { onLeaseEnding } from "../sources/source.ts";
import type { Logger } from "../log/logger.ts";
import type { SignalName } from "../supervisor/signals.ts";
import type { Renderer } from "../render/render.ts";
import type { RenderedTemplates, TemplateOutputs } from "../template/outputs.ts";
import { templateScope } from "../template/index.ts";
import { Debouncer } from "./debounce.ts";
import { FileWatcher } from "./file-watcher.ts";
import { fileStamps, stampsDiffer } from "./file-state.ts";
import { contentOf, diffContent, isEmptyDiff, touched, type ContentDiff } from "./content.ts";
import { formatAction, type Action, type RotationOptions } from "./options.ts";
import { defaultBackoffCap, PollScheduler, type PollOutcome } from "./poll.ts";
import { comparedValues, type ActionRules, type LoadSecretSet, type SecretSet } from "./secret-set.ts";
import { rotationStatus } from "./status.ts";
import { now } from "../platform/clock.ts";

/** What the controller needs from the supervisor side (supervisor/runner.ts implements it). */
export interface Actuator {
  readonly stopping: boolean;
  restart(env: Record<string, string>, reason: Record<string, string | number>): Promise<boolean>;
  signal(sig: SignalName, reason: Record<string, string | number>): boolean;
  /** The env for future starts (after a signal/none action, a later restart uses the newest good set). */
  setEnv(env: Record<string, string>): void;
}

export interface ControllerDeps {
  opts: RotationOptions;
  load: LoadSecretSet;
  actuator: Actuator;
  log: Logger;
  rules?: ActionRules;
  renderer?: Renderer;
  /** Templates: re-rendered for each changed set; a template whose output changed runs its own action. */
  templates?: TemplateOutputs;
  /** Last check of a changed set before acting (the startup gate); throws to reject it. */
  vet?: (set: SecretSet, signal: AbortSignal) => Promise<void>;
}

const POLL_JITTER = 0.1;

export class RotationController {
  readonly #d: ControllerDeps;
  #last: SecretSet;
  #stamps: Map<string, string>;
  #watcher: FileWatcher;
  #debouncer: Debouncer;
  /** The file stat check (key ""), and one poller per remote source scheme. */
  #pollers = new Map<string, PollScheduler>();
  #pollFailures = new Map<string, number>();
  #leaseTimer: NodeJS.Timeout | null = null;
  #busy: Promise<void> | null = null;
  #again: string | null = null;
  /** Cancels fetches and the vetting gate at close; made on first use (~0.2 ms to load, measured here). */
  #abortController: AbortController | undefined;
  #closed = false;
  /** Names of the last hints, for the log line of the look they cause. */
  #hintReason = "files";
  #hintReasons = new Set<string>();
  /** Polls waiting for the outcome of the look their hint causes. */
  #lookWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #retries = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #offLease: (() => void) | null = null;
  /** The last look failed (load or validation): the file poller retries it. */
  #lookFailed = false;

  constructor(initial: SecretSet, deps: ControllerDeps) {
    this.#d = deps;
    this.#last = initial;
    this.#stamps = new Map(); // taken at start(): its first look catches what changed before
    this.#debouncer = new Debouncer({ wait: deps.opts.debounce, maxWait: deps.opts.debounceMax }, () => this.#requestLook(this.#hintReason));
    this.#watcher = new FileWatcher({
      onHint: () => this.#hint("file event"),
      onError: (message, path) => deps.log.warn("cannot watch a secret path; relying on polling for it", { path, error: message }),
    });
    rotationStatus.enabled = true;
    rotationStatus.action = formatAction(deps.opts.action);
  }

  start(): void {
    if (this.#closed) return;
    this.#stamps = fileStamps(this.#last.files);
    this.#watcher.watch(this.#last.files);
    // Anything that changed between the startup load and the watches being armed (the app
    // may already be running, and a busy machine widens the gap) is caught by one look now.
    this.#hint("start");
    this.#syncPollers();
    this.#armLease();
    this.#offLease = onLeaseEnding((ref) => {
      this.#d.log.info("a leased secret must be read again", { ref });
      this.#hint("lease expiry");
    });
    this.#d.log.debug("watching secrets", { paths: this.#last.files.length, inotify: this.#watcher.watched.length, pollMs: this.#d.opts.pollInterval, remote: [...(this.#last.remote?.keys() ?? [])].join(",") });
  }

  #signal(): AbortSignal {
    const c = (this.#abortController ??= new AbortController());
    if (this.#closed) c.abort(); // made after close: born aborted, as it would have been
    return c.signal;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#lookWaiters.splice(0)) w.resolve();
    this.#abortController?.abort();
    this.#watcher.close();
    this.#debouncer.stop();
    for (const p of this.#pollers.values()) p.stop();
    this.#pollers.clear();
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#offLease?.();
  }

  /** Look now (tests, SIGHUP-to-latchkey style triggers); resolves when the look is done. */
  async lookNow(reason = "request"): Promise<void> {
    await this.#look(reason).catch(() => {});
  }

  // --- detection ---------------------------------------------------------------------------

  /**
   * One poller for the files' stat stamps (the inotify safety net; it also retries a failed
   * look), and one per remote source at its own interval (`rotation.poll` in the config file,
   * else --poll-interval), each with its own backoff: an AWS outage does not slow Vault's polls.
   */
  #syncPollers(): void {
    if (this.#closed) return;
    const wanted = new Map<string, number>();
    wanted.set("", this.#d.opts.pollInterval);
    for (const scheme of this.#last.remote?.keys() ?? []) {
      wanted.set(scheme, this.#d.rules?.pollBySource?.[scheme] ?? this.#d.opts.pollInterval);
    }
    for (const [key, p] of this.#pollers) {
      if (!wanted.has(key)) {
        p.stop();
        this.#pollers.delete(key);
      }
    }
    for (const [key, interval] of wanted) {
      if (interval <= 0 || this.#pollers.has(key)) continue;
      const p = new PollScheduler(
        { interval, jitter: POLL_JITTER, backoffCap: defaultBackoffCap(interval) },
        () => (key === "" ? this.#pollFiles() : this.#pollRemote(key)),
        (o) => this.#reportPoll(key, o),
      );
      this.#pollers.set(key, p);
      p.start();
    }
  }

  async #pollFiles(): Promise<void> {
    const stamps = fileStamps(this.#last.files);
    let reason: string | null = stampsDiffer(stamps, this.#stamps) ? "file stat" : null;
    if (!reason && this.#lookFailed) reason = "retry";
    if (reason) await this.#look(reason);
  }

  /**
   * A provider that reports a new version is a hint like a file event: it goes through the
   * debouncer, so that several secrets rotated one after the other (a deploy writing them one
   * by one, polled in between) become one action. The poll itself succeeded; a failed look
   * after it is retried by #scheduleRetry.
   */
  async #pollRemote(scheme: string): Promise<void> {
    const check = this.#last.remote?.get(scheme);
    if (!check) return;
    if (!(await check(this.#signal()))) return;
    // Wait for the look the hint causes: its failure is this poll's failure, so the poller
    // backs off (a provider that answers versions but refuses values is polled no faster
    // than one that is down), and no second poll runs meanwhile.
    const done = new Promise<void>((resolve, reject) => this.#lookWaiters.push({ resolve, reject }));
    this.#hint(`${scheme} version`);
    await done;
  }

  /** Every detection path (file events, provider versions, lease ends, the first look) lands here. */
  #hint(reason: string): void {
    if (!this.#debouncer.pending) this.#hintReasons.clear();
    this.#hintReasons.add(reason);
    this.#hintReason = [...this.#hintReasons].join(", ");
    this.#debouncer.trigger();
  }

  #reportPoll(key: string, o: PollOutcome): void {
    this.#pollFailures.set(key, o.failures);
    rotationStatus.consecutiveFailures = Math.max(0, ...this.#pollFailures.values());
    if (o.ok) return;
    rotationStatus.lastError = errorText(o.error);
    // #look already logged why; this line shows the backoff.
    this.#d.log.warn("secret check failed; keeping the app on the last good secrets and retrying", {
      source: key === "" ? "files" : key, attempt: o.failures, retryInMs: o.nextInMs, error: errorText(o.error),
    });
  }

  #armLease(): void {
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    this.#leaseTimer = null;
    const at = this.#last.leaseExpiresAt;
    if (at === undefined || this.#closed) return;
    // Re-read at two thirds of the remaining lease (Vault Agent renews at a similar point),
    // leaving a third for retries if the provider is slow or down.
    const ms = Math.max(1000, Math.floor(((at - Date.now()) * 2) / 3));
    this.#leaseTimer = setTimeout(() => this.#hint("lease expiry"), Math.min(ms, 2 ** 31 - 1));
    this.#leaseTimer.unref?.();
  }

  // --- decision ----------------------------------------------------------------------------

  #requestLook(reason: string): void {
    const waiters = this.#lookWaiters.splice(0);
    this.#look(reason).then(
      () => {
        this.#retries = 0;
        for (const w of waiters) w.resolve();
      },
      (e: unknown) => {
        // A poll waiting on this look reports the failure and backs off itself.
        if (waiters.length > 0) for (const w of waiters) w.reject(e);
        else this.#scheduleRetry();
      },
    );
  }

  /**
   * A look caused by an event failed. Often transient (a read that raced kubelet removing
   * the old `..<timestamp>` directory, a file half-written by a script): look again soon,
   * backing off from the debounce time up to the poll interval, rather than waiting for
   * the next poll or an event that may never come.
   */
  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer) return;
    this.#retries++;
    const cap = this.#d.opts.pollInterval > 0 ? this.#d.opts.pollInterval : 30_000;
    const first = Math.max(250, this.#d.opts.debounce);
    const ms = Math.min(cap, first * 2 ** Math.min(this.#retries - 1, 20));
    this.#d.log.info("will look at the secrets again", { inMs: ms, attempt: this.#retries });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#requestLook("retry");
    }, ms);
    this.#retryTimer.unref?.();
  }

  /** One look at a time; hints during a look cause exactly one more look after it. */
  #look(reason: string): Promise<void> {
    if (this.#busy) {
      this.#again = reason;
      return this.#busy;
    }
    this.#busy = this.#doLook(reason).finally(() => {
      this.#busy = null;
      const again = this.#again;
      this.#again = null;
      if (again && !this.#closed) this.#requestLook(again);
    });
    return this.#busy;
  }

  async #doLook(reason: string): Promise<void> {
    if (this.#closed || this.#d.actuator.stopping) return;
    const t0 = now();
    const stamps = fileStamps(this.#last.files);
    let candidate: SecretSet;
    try {
      candidate = await this.#d.load(reason, this.#signal());
    } catch (e) {
      this.#lookFailed = true;
      rotationStatus.lastCheckAt = Date.now();
      rotationStatus.lastError = errorText(e);
      rotationStatus.consecutiveFailures++;
      rotationStatus.rejected++;
      const invalid = isLatchkeyError(e) && e.exitCode !== 75;
      this.#d.log.warn(invalid
        ? "new secrets rejected; the app keeps running on the last good set"
        : "cannot load secrets; the app keeps running on the last good set", { reason, error: errorText(e) });
      throw e;
    }
    if (this.#closed || this.#d.actuator.stopping) return;
    this.#lookFailed = false;
    rotationStatus.lastCheckAt = Date.now();
    rotationStatus.lastError = null;
    rotationStatus.consecutiveFailures = 0;
    const diff = diffContent(contentOf(comparedValues(this.#last)), contentOf(comparedValues(candidate)));
    this.#stamps = stamps;
    if (isEmptyDiff(diff)) {
      this.#d.log.debug("secrets unchanged", { reason, ms: Math.round(now() - t0) });
      this.#adopt(candidate);
      return;
    }
    rotationStatus.lastChangeAt = Date.now();
    await this.#act(candidate, diff, reason);
  }

  async #act(candidate: SecretSet, diff: ContentDiff, reason: string): Promise<void> {
    const names = touched(diff);
    // Templates first, in memory: a template the new set breaks (a variable removed) rejects
    // the set as a failed validation would, before anything is applied.
    let rendered: RenderedTemplates | undefined;
    if (this.#d.templates) {
      try {
        rendered = this.#d.templates.render(templateScope(candidate));
      } catch (e) {
        rotationStatus.rejected++;
        rotationStatus.lastError = errorText(e);
        this.#d.log.warn("new secrets rejected by a template; the app keeps running on the last good set", { reason, changed: names.join(","), error: errorText(e) });
        throw e;
      }
    }
    const { action, signals } = this.#actionFor(names, candidate, rendered);
    const info = {
      reason, changed: names.join(","), action: action.kind === "signal" ? signals.map((s) => `signal:${s}`).join(",") : formatAction(action),
      ...(rendered?.changed.length ? { templates: rendered.changed.map((t) => t.destination).join(",") } : {}),
    };
    if (action.kind === "none") {
      if (rendered?.changed.length) await this.#applyFiles(candidate, rendered, info, false);
      this.#d.log.warn("secrets changed; action is none, the app keeps its environment", info);
      rotationStatus.unapplied = [...new Set([...rotationStatus.unapplied, ...names])].sort();
      this.#d.actuator.setEnv(candidate.env);
      this.#adopt(candidate);
      return;
    }
    if (!(await this.#vetted(candidate, info))) return;
    if (!(await this.#applyFiles(candidate, rendered, info, true))) return;
    if (action.kind === "signal") {
      this.#d.actuator.setEnv(candidate.env);
      // Each distinct signal once (two templates may ask for HUP and USR2), in the order asked.
      for (const sig of signals) if (this.#d.actuator.signal(sig, info)) rotationStatus.signals++;
      this.#adopt(candidate);
      return;
    }
    this.#d.log.info("secrets changed", info);
    if (await this.#d.actuator.restart(candidate.env, info)) {
      rotationStatus.restarts++;
      rotationStatus.unapplied = [];
      this.#adopt(candidate);
    }
  }

  /** The startup gate on a candidate set (a rejection is counted, logged and thrown); false when latchkey started stopping meanwhile. */
  async #vetted(candidate: SecretSet, info: Record<string, string>): Promise<boolean> {
    if (!this.#d.vet) return true;
    try {
      await this.#d.vet(candidate, this.#signal());
    } catch (e) {
      rotationStatus.rejected++;
      rotationStatus.lastError = errorText(e);
      this.#d.log.warn("new secrets rejected by the startup gate; the app keeps running on the last good set", { ...info, error: errorText(e) });
      throw e;
    }
    return !(this.#closed || this.#d.actuator.stopping);
  }

  /**
   * Writes what the new set changes on disk (--render files, the templates whose output
   * changed), before the action. `vetted` false (action none): the templates only. Returns
   * false when latchkey started stopping meanwhile.
   */
  async #applyFiles(candidate: SecretSet, rendered: RenderedTemplates | undefined, info: Record<string, string>, vetted: boolean): Promise<boolean> {
    if (!vetted && !(await this.#vetted(candidate, info))) return false;
    try {
      if (vetted) this.#d.renderer?.render(candidate.secrets);
      rendered?.commit();
    } catch (e) {
      this.#d.log.error("cannot render the new secrets; the app keeps the last good set", { error: errorText(e) });
      throw e;
    }
    return true;
  }

  /**
   * restart beats a signal beats none. A variable's action: its own rule (rotation.actions),
   * else, when a template reads it, nothing of its own (the templates whose output changed
   * bring theirs), else its source's rule, else --on-change.
   */
  #actionFor(names: string[], set: SecretSet, rendered?: RenderedTemplates): { action: Action; signals: SignalName[] } {
    const rules = this.#d.rules;
    const actions: Action[] = [];
    for (const n of names) {
      const bare = n.startsWith("secret:") ? n.slice(7) : n;
      const own = rules?.byName?.[bare];
      if (own) actions.push(own);
      else if (rendered?.reads.has(bare)) continue;
      else {
        const src = set.origins?.[bare] ?? this.#last.origins?.[bare];
        actions.push((src ? rules?.bySource?.[src] : undefined) ?? this.#d.opts.action);
      }
    }
    for (const t of rendered?.changed ?? []) actions.push(t.action);
    const restart = actions.find((a) => a.kind === "restart");
    if (restart) return { action: restart, signals: [] };
    const signals = [...new Set(actions.flatMap((a) => (a.kind === "signal" ? [a.signal] : [])))];
    return signals.length > 0 ? { action: { kind: "signal", signal: signals[0]! }, signals } : { action: { kind: "none" }, signals: [] };
  }

  #adopt(set: SecretSet): void {
    const filesChanged = set.files.join("\0") !== this.#last.files.join("\0");
    this.#last = set;
    if (filesChanged) {
      this.#stamps = fileStamps(set.files);
      this.#watcher.watch(set.files);
    }
    this.#syncPollers();
    this.#armLease();
  }
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
