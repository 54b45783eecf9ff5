/**
 * 100 Vault KV v2 paths read by the built binary from the test Vault server (its own process),
 * with the concurrent reader (--vault-concurrency 16, the default) vs sequential
 * (--vault-concurrency 1), at 0 ms and at 5 ms of added server latency (a network round trip).
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { root } from "../lib/paths.ts";
import { fmt, median, table } from "../lib/stats.ts";
import type { Context } from "../lib/types.ts";

const N = 100;

async function startServer(node: string, latencyMs: number): Promise<{ url: string; token: string; stats: string; stop: () => void }> {
  const p = spawn(node, [join(root, "test/servers/vault/cli.ts"), "--kv2", String(N), "--latency-ms", String(latencyMs)], { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: p.stdout! }).once("line", resolve);
    p.once("exit", (c) => reject(new Error(`vault test server exited ${c}`)));
  });
  const info = JSON.parse(line) as { url: string; token: string; stats: string };
  return { ...info, stop: () => p.kill("SIGTERM") };
}

async function stats(url: string): Promise<{ requests: number; maxInFlight: number }> {
  return (await (await fetch(url)).json()) as { requests: number; maxInFlight: number };
}

export async function vaultSection(ctx: Context): Promise<string> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 2 : 10));
  const rows: string[][] = [];
  for (const latency of [0, 5]) {
    ctx.log(`vault: test server with ${latency} ms latency`);
    const s = await startServer(ctx.node, latency);
    try {
      const env: Record<string, string> = { PATH: process.env.PATH ?? "", VAULT_ADDR: s.url, VAULT_TOKEN: s.token };
      for (let i = 0; i < N; i++) env[`S${i}`] = `vault://secret/data/bench/s${String(i).padStart(3, "0")}#v`;
      const times: Record<string, number[]> = { "16": [], "1": [] };
      let reqs = { "16": 0, "1": 0 } as Record<string, number>;
      for (let r = 1; r <= rounds; r++) {
        for (const conc of ["16", "1"]) {
          const before = await stats(s.stats);
          const t0 = performance.now();
          const res = spawnSync(ctx.latchkey, ["--vault-concurrency", conc, "--", "/bin/true"], { env, stdio: ["ignore", "ignore", "pipe"] });
          times[conc]!.push(performance.now() - t0);
          if (res.status !== 0) throw new Error(`vault bench: latchkey failed: ${res.stderr}`);
          reqs = { ...reqs, [conc]: (await stats(s.stats)).requests - before.requests };
        }
      }
      const peak = (await stats(s.stats)).maxInFlight;
      rows.push([`${latency} ms`, String(reqs["16"]), fmt(median(times["16"]!)), fmt(median(times["1"]!)), `${fmt(median(times["1"]!) / median(times["16"]!), 1)}×`, String(peak)]);
    } finally {
      s.stop();
    }
  }
  return [
    "### Vault: 100 KV v2 paths",
    "",
    `The built binary (\`latchkey -- /bin/true\` with 100 \`vault://secret/data/bench/sNNN#v\` references, token auth) against the test Vault server`,
    `(test/servers/vault, its own process) on 127.0.0.1; ${rounds} rounds, both modes interleaved; wall time of the whole run in ms (medians).`,
    "Requests per run: token lookup, one mount preflight, 100 reads, token revoke-self is not sent (the token was given).",
    "",
    table(["added server latency", "requests per run", "concurrent (16) ms", "sequential (1) ms", "speed-up", "peak in flight"], rows),
    "",
    "Peak in flight is counted by the server: with no added latency it answers each request within one turn of its event loop, so",
    "requests never overlap there; with 5 ms they do, up to the reader's bound. Each run includes latchkey's own start (~80-100 ms here).",
  ].join("\n");
}
