/**
 * The contract every SecretSource keeps (hono-style: one suite, run against every
 * implementation — file, aws-sm, vault and an in-memory one). What the env layer relies on:
 * one result per reference in order, exact bytes, all-or-nothing failures that name the
 * reference and never a value, idempotent close, and versions that are stable while the
 * secret does not change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLatchkeyError, type LatchkeyError } from "../../src/errors.ts";
import { Logger } from "../../src/log/logger.ts";
import { parseReference, type Reference, type SecretSource, type SourceContext } from "../../src/sources/source.ts";

export interface ContractFixture {
  /** Store a secret with exactly this value; return the reference text that reads it. */
  put(name: string, value: string): Promise<string>;
  /** A well-formed reference to something that does not exist. */
  missing(): string;
  /** A fresh source instance. */
  make(): SecretSource;
  /** The comparable value from fetched bytes (Vault wraps values in a JSON object). */
  decode(value: Buffer): string;
  /** Extra context for fetch (settings, env for the SDK chains). */
  context?(): Partial<SourceContext>;
  /** Wrap each call (e.g. to give the AWS SDK the env it reads from process.env). */
  around?<T>(f: () => Promise<T>): Promise<T>;
}

const quiet = new Logger(-1);
quiet.level = "silent";

export function describeSourceContract(name: string, setup: () => Promise<ContractFixture>, teardown: () => Promise<void> = async () => {}): void {
  describe(`SecretSource contract: ${name}`, () => {
    let fx: ContractFixture;
    const made: SecretSource[] = [];
    const values = ["contract-alpha-3f9d", "contract β ünïcödé ✓", "line one of a key\nline two of a key\n", "contract-gamma-77c1"];
    const refs: string[] = [];

    beforeAll(async () => {
      fx = await setup();
      for (const [i, v] of values.entries()) refs.push(await fx.put(`c${i}`, v));
    }, 120_000);
    afterAll(async () => {
      await Promise.all(made.map((s) => s.close?.()));
      await teardown();
    });

    const ctx = (): SourceContext => ({ log: quiet, deadline: Date.now() + 20_000, signal: new AbortController().signal, ...(fx.context?.() ?? {}) });
    const src = () => {
      const s = fx.make();
      made.push(s);
      return s;
    };
    const parse = (raw: string): Reference => parseReference(raw, "CONTRACT", { checkScheme: false })!;
    const run = <T>(f: () => Promise<T>): Promise<T> => (fx.around ? fx.around(f) : f());
    const failure = async (p: Promise<unknown>): Promise<LatchkeyError> => {
      try {
        await p;
      } catch (e) {
        expect(isLatchkeyError(e), `not a LatchkeyError: ${String(e)}`).toBe(true);
        return e as LatchkeyError;
      }
      throw new Error("expected the fetch to fail");
    };

    it("an empty list fetches nothing", async () => {
      expect(await run(() => src().fetch([], ctx()))).toEqual([]);
    });

    it("one result per reference, in order, the same Reference objects, exact bytes", async () => {
      const rs = refs.map(parse);
      const got = await run(() => src().fetch(rs, ctx()));
      expect(got).toHaveLength(rs.length);
      got.forEach((g, i) => {
        expect(g.ref).toBe(rs[i]);
        expect(fx.decode(g.value)).toBe(values[i]);
      });
    });

    it("the same reference twice resolves twice", async () => {
      const rs = [parse(refs[0]!), parse(refs[0]!)];
      const got = await run(() => src().fetch(rs, ctx()));
      expect(got.map((g) => fx.decode(g.value))).toEqual([values[0], values[0]]);
    });

    it("all or nothing: one missing reference fails the set, named, with no value in the message", async () => {
      const bad = fx.missing();
      const e = await failure(run(() => src().fetch([parse(refs[0]!), parse(bad), parse(refs[3]!)], ctx())));
      expect(e.message).toContain(bad);
      expect(e.exitCode).toBeGreaterThan(0);
      for (const v of values) expect(e.message).not.toContain(v.trim());
      expect(e.message.split("\n")).toHaveLength(1);
    });

    it("versions are stable while the secret does not change", async () => {
      const a = await run(() => src().fetch([parse(refs[1]!)], ctx()));
      const b = await run(() => src().fetch([parse(refs[1]!)], ctx()));
      if (a[0]!.version === undefined) expect(b[0]!.version).toBeUndefined();
      else {
        expect(a[0]!.version).toMatch(/\S/);
        expect(b[0]!.version).toBe(a[0]!.version);
      }
    });

    it("versions(), when offered, agrees with fetch and reads no values", async () => {
      const s = src();
      if (!s.versions) {
        expect(s.versions).toBeUndefined();
        return;
      }
      const rs = refs.map(parse);
      const got = await run(() => s.fetch(rs, ctx()));
      const vs = await run(() => s.versions!(rs, ctx()));
      expect(vs).toHaveLength(rs.length);
      vs.forEach((v, i) => {
        if (v !== undefined) expect(v).toBe(got[i]!.version);
      });
    });

    it("concurrent fetches on one source both succeed", async () => {
      const s = src();
      const [x, y] = await run(() => Promise.all([s.fetch([parse(refs[0]!)], ctx()), s.fetch([parse(refs[3]!)], ctx())]));
      expect(fx.decode(x[0]!.value)).toBe(values[0]);
      expect(fx.decode(y[0]!.value)).toBe(values[3]);
    });

    it("close is idempotent", async () => {
      const s = fx.make();
      await run(() => s.fetch([parse(refs[0]!)], ctx()));
      await s.close?.();
      await s.close?.();
      expect(true).toBe(true);
    });
  });
}
