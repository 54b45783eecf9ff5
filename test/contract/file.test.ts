import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSourceContract } from "./source-contract.ts";
import { createFileSource } from "../../src/sources/file/index.ts";

const dir = mkdtempSync(join(tmpdir(), "latchkey-contract-file-"));
describeSourceContract("file://", async () => ({
  put: async (name, value) => {
    writeFileSync(join(dir, name), value);
    return `file://${join(dir, name)}`;
  },
  missing: () => `file://${join(dir, "does-not-exist")}`,
  make: () => createFileSource(),
  decode: (b) => b.toString("utf8"),
}), async () => rmSync(dir, { recursive: true, force: true }));
