import { describe, expect, it } from "vitest";
import { cachingSource, nextLeaseEnd } from "../../../src/watch/source-cache.ts";
import type { FetchedSecret, Reference, SecretSource } from "../../../src/sources/source.ts";
import { Logger } from "../../../src/log/logger.ts";

const ref = (raw: string): Reference => ({ raw, scheme: raw.split("://")[0]!, locator: raw.split("://")[1]!, params: {} });
const ctx = { log: new Logger(), deadline: Date.now() + 1000, signal: new AbortController().signal };

/** A provider with versions; `dynamic` refs mint a new value and lease on every fetch. */
function provider(opts: { versions?: boolean; lease?: { durationSec: number; renewable: boolean } } = {}) {
  const store: Record<string, { value: string; version: string }> = {};
  const fetched: string[] = [];
  let minted = 0;
  const src: SecretSource = {
    scheme: "p",
    async fetch(refs): Promise<FetchedSecret[]> {
      return refs.map((r) => {
        fetched.push(r.raw);
        if (opts.lease) return { ref: r, value: Buffer.from(`cred-${++minted}`), lease: { id: `lease-${minted}`, ...opts.lease } };
        const s = store[r.raw]!;
        return { ref: r, value: Buffer.from(s.value), version: s.version };
      });
    },
    ...(opts.versions ? { async versions(refs: readonly Reference[]) {
      return refs.map((r) => store[r.raw]?.version);
    } } : {}),
  };
  return { src, store, fetched };
}

describe("cachingSource", () => {
  it("fetches only refs whose version changed, and returns the caller's ref objects", async () => {
    const p = provider({ versions: true });
    p.store["p://a"] = { value: "A1", version: "1" };
    p.store["p://b"] = { value: "B1", version: "1" };
    const c = cachingSource(p.src);
    await c.fetch([ref("p://a"), ref("p://b")], ctx);
    p.store["p://b"] = { value: "B2", version: "2" };
    p.fetched.length = 0;
    const refs = [ref("p://a"), ref("p://b")];
    const got = await c.fetch(refs, ctx);
    expect(p.fetched).toEqual(["p://b"]);
    expect(got.map((g) => g.value.toString())).toEqual(["A1", "B2"]);
    expect(got[0]!.ref).toBe(refs[0]);
    expect(got[1]!.ref).toBe(refs[1]);
  });

  it("without versions() re-fetches everything", async () => {
    const p = provider();
    p.store["p://a"] = { value: "A1", version: "1" };
    const c = cachingSource(p.src);
    await c.fetch([ref("p://a")], ctx);
    await c.fetch([ref("p://a")], ctx);
    expect(p.fetched).toEqual(["p://a", "p://a"]);
  });

  it("reuses a leased secret until two thirds of a non-renewable lease have passed", async () => {
    let t = 1_000_000;
    const p = provider({ lease: { durationSec: 30, renewable: false } });
    const c = cachingSource(p.src, () => t);
    const first = await c.fetch([ref("p://db")], ctx);
    expect(nextLeaseEnd()).toBe(1_000_000 + 30_000);
    t += 15_000;
    expect((await c.fetch([ref("p://db")], ctx))[0]!.value.toString()).toBe(first[0]!.value.toString());
    t += 6_000;
    expect((await c.fetch([ref("p://db")], ctx))[0]!.value.toString()).not.toBe(first[0]!.value.toString());
    expect(p.fetched).toHaveLength(2);
    await c.close!();
  });

  it("keeps a renewable lease (its source renews it)", async () => {
    let t = 0;
    const p = provider({ lease: { durationSec: 3, renewable: true } });
    const c = cachingSource(p.src, () => t);
    await c.fetch([ref("p://db")], ctx);
    t += 3_600_000;
    await c.fetch([ref("p://db")], ctx);
    expect(p.fetched).toHaveLength(1);
    await c.close!();
  });

  it("a failed fetch fails the whole call (no partial result)", async () => {
    const p = provider({ versions: true });
    p.store["p://a"] = { value: "A1", version: "1" };
    p.store["p://b"] = { value: "B1", version: "1" };
    const c = cachingSource(p.src);
    await c.fetch([ref("p://a"), ref("p://b")], ctx);
    p.store["p://b"] = { value: "B2", version: "2" };
    p.src.fetch = async () => {
      throw new Error("503");
    };
    await expect(c.fetch([ref("p://a"), ref("p://b")], ctx)).rejects.toThrow("503");
  });
});

describe("leaseEnding", () => {
  it("makes the cache read a renewable leased secret again", async () => {
    const { leaseEnding } = await import("../../../src/sources/source.ts");
    const p = provider({ lease: { durationSec: 3, renewable: true } });
    const c = cachingSource(p.src);
    const a = await c.fetch([ref("p://db")], ctx);
    leaseEnding("p://other");
    expect((await c.fetch([ref("p://db")], ctx))[0]!.value.toString()).toBe(a[0]!.value.toString());
    leaseEnding("p://db");
    expect((await c.fetch([ref("p://db")], ctx))[0]!.value.toString()).not.toBe(a[0]!.value.toString());
    expect(p.fetched).toHaveLength(2);
    await c.close!();
  });
});

describe("leases and versions()", () => {
  it("re-reads a leased secret once versions() stops answering its lease id", async () => {
    let state: "healthy" | "expiring" = "healthy";
    let minted = 0;
    const fetched: string[] = [];
    const src: SecretSource = {
      scheme: "p",
      async fetch(refs) {
        return refs.map((r) => {
          fetched.push(r.raw);
          return { ref: r, value: Buffer.from(`cred-${++minted}`), lease: { id: `lease-${minted}`, durationSec: 3, renewable: true } };
        });
      },
      async versions(refs) {
        return refs.map(() => (state === "healthy" ? `lease-${minted}` : `expiring:lease-${minted}`));
      },
    };
    const c = cachingSource(src);
    await c.fetch([ref("p://db")], ctx);
    await c.fetch([ref("p://db")], ctx);
    expect(fetched).toHaveLength(1);
    state = "expiring";
    expect((await c.fetch([ref("p://db")], ctx))[0]!.value.toString()).toBe("cred-2");
    state = "healthy";
    await c.fetch([ref("p://db")], ctx);
    expect(fetched).toHaveLength(2);
    await c.close!();
  });
});
