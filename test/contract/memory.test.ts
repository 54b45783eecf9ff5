import { describeSourceContract } from "./source-contract.ts";
import { createMemorySource, MemoryStore } from "./memory-source.ts";

const store = new MemoryStore();
describeSourceContract("mem:// (in-memory reference implementation)", async () => ({
  put: async (name, value) => store.put(name, value),
  missing: () => "mem://does-not-exist",
  make: () => createMemorySource(store),
  decode: (b) => b.toString("utf8"),
}));
