/**
 * 100 AWS secrets against moto: latchkey's aws-sm source (BatchGetSecretValue, 20 per call,
 * in parallel) vs fetching them one by one with GetSecretValue, side by side in one run,
 * interleaved round by round. Also the built binary end to end (100 references vs none).
 * Targets: ≤ 6 requests; ≥ 5× faster than one by one.
 */
import { spawnSync } from "node:child_process";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { motoEnv, startMoto } from "../../test/servers/aws/moto.ts";
import { createAwsSmSource } from "../../src/sources/aws-sm/index.ts";
import { registerAwsFlags } from "../../src/sources/aws-sm/flags.ts";
import { registerPolicyFlags } from "../../src/policy/flags.ts";
import { parseReference } from "../../src/sources/source.ts";
import { Settings } from "../../src/config/settings.ts";
import { Logger } from "../../src/log/logger.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Context } from "../lib/types.ts";

const N = 100;

export async function awsSection(ctx: Context): Promise<string> {
  registerAwsFlags();
  registerPolicyFlags();
  const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 2 : 10));
  ctx.log("starting moto and creating 100 secrets");
  const moto = await startMoto();
  const env = motoEnv(moto);
  const saved = process.env;
  process.env = { ...saved, ...env };
  const quiet = new Logger(-1);
  quiet.level = "silent";
  try {
    const admin = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    const names = Array.from({ length: N }, (_, i) => `bench/s${String(i).padStart(3, "0")}`);
    for (const n of names) await admin.send(new CreateSecretCommand({ Name: n, SecretString: JSON.stringify({ password: `pw-${n}` }) }));
    admin.destroy();
    const refs = names.map((n) => parseReference(`aws-sm://${n}#password`, "BENCH", { checkScheme: false })!);
    const batched: number[] = [];
    const batchedCalls: number[] = [];
    const oneByOne: number[] = [];
    const parallelSingles: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      ctx.log(`aws round ${r}/${rounds}`);
      {
        const src = createAwsSmSource(env);
        const t0 = performance.now();
        const got = await src.fetch(refs, { log: quiet, deadline: Date.now() + 60_000, signal: new AbortController().signal, settings: new Settings({ flags: {}, env }) });
        batched.push(performance.now() - t0);
        if (got.length !== N) throw new Error("aws bench: not all secrets fetched");
        batchedCalls.push(Object.values(src.calls).reduce((a, b) => a + b, 0));
        await src.close();
      }
      {
        const c = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        const t0 = performance.now();
        for (const n of names) await c.send(new GetSecretValueCommand({ SecretId: n }));
        oneByOne.push(performance.now() - t0);
        c.destroy();
      }
      {
        const src = createAwsSmSource(env);
        const t0 = performance.now();
        await src.fetch(refs, { log: quiet, deadline: Date.now() + 60_000, signal: new AbortController().signal, settings: new Settings({ flags: { "aws-no-batch": true }, env }) });
        parallelSingles.push(performance.now() - t0);
        await src.close();
      }
    }
    // The built binary, end to end: 100 references vs none (same env), wall time per run.
    const refEnv: Record<string, string> = { PATH: saved.PATH ?? "", ...env };
    names.forEach((n, i) => (refEnv[`S${i}`] = `aws-sm://${n}#password`));
    const bin = (e: Record<string, string>) => {
      const t0 = performance.now();
      const r = spawnSync(ctx.latchkey, ["--", "/bin/true"], { env: e, stdio: ["ignore", "ignore", "pipe"] });
      if (r.status !== 0) throw new Error(`aws bench: latchkey failed: ${r.stderr}`);
      return performance.now() - t0;
    };
    const binWith: number[] = [];
    const binWithout: number[] = [];
    for (let r = 0; r < rounds; r++) {
      binWith.push(bin(refEnv));
      binWithout.push(bin({ PATH: saved.PATH ?? "", ...env }));
    }
    await moto.stop();
    const speedup = median(oneByOne) / median(batched);
    const calls = median(batchedCalls);
    return [
      "### AWS Secrets Manager: 100 secrets against moto",
      "",
      `moto ${"5.2.1"} on 127.0.0.1; ${N} secrets of ~40 bytes; ${rounds} rounds, the three ways interleaved in each round; times in ms (medians).`,
      "",
      table(["how", "requests", "wall time (ms)", "vs one by one"], [
        ["**latchkey aws-sm source: BatchGetSecretValue ×20, parallel**", String(calls), fmt(median(batched)), `${fmt(speedup, 1)}× faster`],
        ["latchkey with --aws-no-batch: GetSecretValue, 10 in parallel", String(N), fmt(median(parallelSingles)), `${fmt(median(oneByOne) / median(parallelSingles), 1)}× faster`],
        ["one by one: GetSecretValue in a loop (same SDK)", String(N), fmt(median(oneByOne)), "1×"],
      ]),
      "",
      `Built binary, \`latchkey -- /bin/true\` with 100 \`aws-sm://\` references: ${fmt(median(binWith))} ms; with none (same env): ${fmt(median(binWithout))} ms; ` +
        `so loading the SDK and fetching 100 secrets adds ${fmt(median(binWith) - median(binWithout))} ms.`,
      "",
      verdict(calls <= 6, `${calls} requests for 100 secrets (target ≤ 6)`),
      "",
      verdict(speedup >= 5, `${fmt(speedup, 1)}× faster than one by one (target ≥ 5×)`),
    ].join("\n");
  } finally {
    process.env = saved;
  }
}
