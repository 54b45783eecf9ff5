/** An in-memory SecretSource (scheme `mem://`), the contract suite's reference implementation. */
import { ExitCode, LatchkeyError } from "../../src/errors.ts";
import type { FetchedSecret, Reference, SecretSource } from "../../src/sources/source.ts";

export class MemoryStore {
  readonly data = new Map<string, { value: Buffer; version: number }>();
  put(name: string, value: string | Buffer): string {
    const prev = this.data.get(name);
    this.data.set(name, { value: Buffer.from(value), version: (prev?.version ?? 0) + 1 });
    return `mem://${name}`;
  }
}

export function createMemorySource(store: MemoryStore): SecretSource {
  let closed = false;
  const one = (ref: Reference) => {
    const e = store.data.get(ref.locator);
    if (!e) throw new LatchkeyError("mem-missing", ExitCode.NO_INPUT, `${ref.raw}: no such secret`);
    return e;
  };
  return {
    scheme: "mem",
    async fetch(refs: readonly Reference[]): Promise<FetchedSecret[]> {
      if (closed) throw new LatchkeyError("internal", ExitCode.INTERNAL, "mem source used after close");
      const missing = refs.filter((r) => !store.data.has(r.locator));
      if (missing.length) throw new LatchkeyError("mem-missing", ExitCode.NO_INPUT, `${missing.map((r) => r.raw).join(", ")}: no such secret`);
      return refs.map((ref) => {
        const e = one(ref);
        return { ref, value: Buffer.from(e.value), version: String(e.version) };
      });
    },
    async versions(refs: readonly Reference[]): Promise<(string | undefined)[]> {
      return refs.map((r) => String(one(r).version));
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}
