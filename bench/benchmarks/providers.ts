/**
 * Secret providers (issue 4): AWS Secrets Manager against moto, Vault against the test server,
 * and startup/memory with no provider configured vs without the provider code.
 * Pieces live in bench/providers/; BENCH_PROVIDERS=aws,vault,startup picks some.
 */
import type { Benchmark, Context } from "../lib/types.ts";
import { awsSection } from "../providers/aws.ts";
import { vaultSection } from "../providers/vault.ts";
import { startupSection } from "../providers/startup.ts";

export const benchmark: Benchmark = {
  name: "providers",
  title: "Secret providers (AWS Secrets Manager, Vault)",
  order: 40,
  async run(ctx: Context): Promise<string> {
    const pick = new Set((process.env.BENCH_PROVIDERS ?? "aws,vault,startup").split(","));
    const parts: string[] = [];
    if (pick.has("aws")) parts.push(await awsSection(ctx));
    if (pick.has("vault")) parts.push(await vaultSection(ctx));
    if (pick.has("startup")) parts.push(await startupSection(ctx));
    return parts.join("\n\n");
  },
};
