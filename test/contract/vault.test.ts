import { describeSourceContract } from "./source-contract.ts";
import { TestVault } from "../servers/vault/server.ts";
import { createVaultSource } from "../../src/sources/vault/index.ts";
import { registerVaultFlags } from "../../src/sources/vault/flags.ts";
import { registerPolicyFlags } from "../../src/policy/flags.ts";
import { Settings } from "../../src/config/settings.ts";

registerVaultFlags();
registerPolicyFlags();
let v: TestVault;
describeSourceContract("vault:// (test Vault server, KV v2)", async () => {
  v = await new TestVault().start();
  const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
  return {
    put: async (name, value) => {
      v.namespace("").kvPut("secret", `contract/${name}`, { value });
      return `vault://secret/data/contract/${name}`;
    },
    missing: () => "vault://secret/data/contract/does-not-exist",
    make: () => createVaultSource(env),
    decode: (b) => (JSON.parse(b.toString("utf8")) as { value: string }).value,
    context: () => ({ settings: new Settings({ flags: {}, env }) }),
  };
}, async () => v?.stop());
