import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { describeSourceContract } from "./source-contract.ts";
import { motoEnv, startMoto, type Moto } from "../servers/aws/moto.ts";
import { createAwsSmSource } from "../../src/sources/aws-sm/index.ts";
import { registerAwsFlags } from "../../src/sources/aws-sm/flags.ts";
import { registerPolicyFlags } from "../../src/policy/flags.ts";
import { Settings } from "../../src/config/settings.ts";

registerAwsFlags();
registerPolicyFlags();
let moto: Moto;
describeSourceContract("aws-sm:// (moto)", async () => {
  moto = await startMoto();
  const env = motoEnv(moto);
  const admin = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  return {
    put: async (name, value) => {
      await admin.send(new CreateSecretCommand({ Name: `contract/${name}`, SecretString: value }));
      return `aws-sm://contract/${name}`;
    },
    missing: () => "aws-sm://contract/does-not-exist",
    make: () => createAwsSmSource(env),
    decode: (b) => b.toString("utf8"),
    context: () => ({ settings: new Settings({ flags: {}, env }) }),
    // The SDK resolves region and credentials from process.env.
    around: async (f) => {
      const saved = process.env;
      process.env = { ...saved, ...env };
      try {
        return await f();
      } finally {
        process.env = saved;
      }
    },
  };
}, async () => moto?.stop());
