/**
 * Leases of dynamic secrets (database/creds/app, aws/creds/x...): renewed at about two thirds
 * of their duration while latchkey runs, and revoked on exit unless --vault-keep-leases. When
 * Vault stops extending a lease (its max TTL), latchkey logs it: the secret must be read
 * again (rotation), which is the watch layer's job.
 */
import type { Logger } from "../../log/logger.ts";
import { leaseEnding } from "../source.ts";
import type { VaultClient } from "./client.ts";
import { renewDelay, temporary } from "./auth.ts";

interface Tracked {
  /** The references that read this lease (`#username` and `#password` of one read share it). */
  whats: Set<string>;
  id: string;
  durationSec: number;
  renewable: boolean;
  timer: NodeJS.Timeout | null;
  renewals: number;
  /** Consecutive temporary renewal failures, and when the lease ends (ms since epoch). */
  failures: number;
  endsAt: number;
  healthy: boolean;
  replaced: boolean;
}

export class LeaseKeeper {
  readonly #leases = new Map<string, Tracked>();
  #stopped = false;

  private c: VaultClient;
  private log: Logger;

  constructor(c: VaultClient, log: Logger) {
    this.c = c;
    this.log = log;
  }

  track(what: string, lease: { id: string; durationSec: number; renewable: boolean }): void {
    const same = this.#leases.get(lease.id);
    // A re-read (rotation) replaces the lease of the same reference: the old one is no longer
    // renewed and dies by TTL once the app has restarted on the new credentials; it is still
    // revoked on exit.
    for (const old of this.#leases.values()) {
      if (old === same || !old.whats.has(what)) continue;
      old.whats.delete(what);
      if (old.whats.size === 0 && !old.replaced) {
        if (old.timer) clearTimeout(old.timer);
        old.timer = null;
        old.replaced = true;
      }
    }
    if (same) {
      same.whats.add(what);
      return;
    }
    const t: Tracked = { whats: new Set([what]), ...lease, timer: null, renewals: 0, failures: 0, endsAt: Date.now() + lease.durationSec * 1000, healthy: lease.renewable, replaced: false };
    this.#leases.set(lease.id, t);
    this.#schedule(t);
  }

  /**
   * For rotation polling: the lease id while it is healthy, `expiring:<id>` once Vault stopped
   * extending it (or a renewal failed), so the watcher re-reads exactly then.
   */
  stateOf(what: string): string | undefined {
    let found: Tracked | undefined;
    for (const t of this.#leases.values()) if (t.whats.has(what) && !t.replaced) found = t;
    return found ? (found.healthy ? found.id : `expiring:${found.id}`) : undefined;
  }

  get size(): number {
    return this.#leases.size;
  }

  renewalsOf(id: string): number {
    return this.#leases.get(id)?.renewals ?? 0;
  }

  #schedule(t: Tracked, ms = renewDelay(t.durationSec)): void {
    if (this.#stopped || !t.renewable || t.durationSec <= 0) return;
    t.timer = setTimeout(() => void this.#renew(t), ms);
    t.timer.unref();
  }

  async #renew(t: Tracked): Promise<void> {
    if (t.replaced || this.#stopped) return;
    try {
      const r = await this.c.call("PUT", "sys/leases/renew", { body: { lease_id: t.id, increment: t.durationSec }, deadline: Date.now() + 30_000, retry: false });
      const got = Number(r?.lease_duration ?? 0);
      t.renewals++;
      t.failures = 0;
      t.endsAt = Date.now() + got * 1000;
      if (got < t.durationSec / 2) {
        this.log.warn("vault: lease nears its max TTL and will not be extended; the secret must be read again", { reference: [...t.whats].join(" "), ttl: got });
        t.durationSec = got;
        t.renewable = false;
        t.healthy = false;
        for (const w of t.whats) leaseEnding(w);
        return;
      }
      t.durationSec = got;
      this.#schedule(t);
    } catch (e) {
      // Vault down or sealed: try again (one request per attempt, 1 s doubling) while a sixth
      // of the lease would remain, then have it read again.
      if (temporary(e)) {
        t.failures++;
        const ms = Math.min(300_000, 1000 * 2 ** Math.min(t.failures - 1, 20));
        if (Date.now() + ms < t.endsAt - (t.durationSec * 1000) / 6) {
          this.log.warn("vault: lease renewal failed; retrying", { reference: [...t.whats].join(" "), retryInMs: ms, error: e instanceof Error ? e.message : String(e) });
          this.#schedule(t, ms);
          return;
        }
      }
      t.healthy = false;
      this.log.warn("vault: lease renewal failed; the secret must be read again", { reference: [...t.whats].join(" "), error: e instanceof Error ? e.message : String(e) });
      for (const w of t.whats) leaseEnding(w);
    }
  }

  /**
   * latchkey now holds another token. Every lease obtained with the old one is revoked by Vault
   * when that token expires, whatever the lease's own TTL: each is announced as ending, so that
   * rotation reads it again (new credentials under the new token) and moves the app onto them
   * while the old token still lives.
   */
  tokenReplaced(): void {
    const live = [...this.#leases.values()].filter((t) => !t.replaced);
    if (live.length === 0) return;
    this.log.info("vault: new token; reading the dynamic secrets of the previous token again before it expires", { reference: live.flatMap((t) => [...t.whats]).join(" ") });
    for (const t of live) {
      t.healthy = false;
      for (const w of t.whats) leaseEnding(w);
    }
  }

  #warned = false;
  /** The token ends in `sec` seconds (its max TTL): say so once if a lease held would outlive it. */
  warnIfOutlived(sec: number): void {
    if (this.#warned) return;
    const longer = [...this.#leases.values()].filter((t) => !t.replaced && t.durationSec > sec);
    if (longer.length === 0) return;
    this.#warned = true;
    this.log.warn("vault: the login token's max TTL is shorter than the leases it holds: at each re-login their credentials are replaced and the app restarted (rotation action); give the auth role a token_max_ttl longer than the leases' max TTL, or a periodic token",
      { tokenEndsInSec: sec, reference: longer.flatMap((t) => [...t.whats]).join(" ") });
  }

  async revokeOne(id: string, deadline = Date.now() + 5000): Promise<void> {
    await this.c.call("PUT", "sys/leases/revoke", { body: { lease_id: id }, deadline });
  }

  /** Revoke every tracked lease (used when the token is not ours, so revoke-self is not an option). */
  async revokeAll(deadline: number): Promise<void> {
    await Promise.all([...this.#leases.values()].map((t) => this.revokeOne(t.id, deadline).then(
      () => this.log.debug("vault: lease revoked", { reference: [...t.whats].join(" ") }),
      (e: unknown) => this.log.warn("vault: could not revoke lease (grant 'update' on sys/leases/revoke, or let it expire)", { reference: [...t.whats].join(" "), error: e instanceof Error ? e.message : String(e) }),
    )));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#leases.values()) if (t.timer) clearTimeout(t.timer);
  }
}
