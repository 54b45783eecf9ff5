import { describeSourceContract } from "./source-contract.ts";
import { startOpenBao, type OpenBao } from "../servers/openbao.ts";
import { createVaultSource } from "../../src/sources/vault/index.ts";
import { registerVaultFlags } from "../../src/sources/vault/flags.ts";
import { registerPolicyFlags } from "../../src/policy/flags.ts";
import { Settings } from "../../src/config/settings.ts";

registerVaultFlags();
registerPolicyFlags();
let v: OpenBao;
describeSourceContract("vault:// (OpenBao, KV v2)", async () => {
  v = await startOpenBao();
  const env = { VAULT_ADDR: v.url, VAULT_TOKEN: v.rootToken };
  return {
    put: async (name, value) => {
      await v.kvPut(`contract/${name}`, { value });
      return `vault://secret/data/contract/${name}`;
    },
    missing: () => "vault://secret/data/contract/does-not-exist",
    make: () => createVaultSource(env),
    decode: (b) => (JSON.parse(b.toString("utf8")) as { value: string }).value,
    context: () => ({ settings: new Settings({ flags: {}, env }) }),
  };
}, async () => v?.stop());
