/**
 * The test Vault server as its own process (for benchmarks, and by hand):
 *   node test/servers/vault/cli.ts [--kv2 N] [--latency-ms MS]
 * Writes N KV v2 secrets at secret/bench/sNNN ({"v": "..."}), prints one JSON line
 * {"url","token","stats"} on stdout, serves until stdin closes or SIGTERM. The `stats` URL (a
 * second port, not Vault's API) answers the request count and the highest number in flight.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { TestVault } from "./server.ts";

const { values } = parseArgs({ options: { kv2: { type: "string", default: "0" }, "latency-ms": { type: "string", default: "0" } } });
const v = await new TestVault({ latencyMs: Number(values["latency-ms"]) }).start();
const n = Number(values.kv2);
for (let i = 0; i < n; i++) v.namespace("").kvPut("secret", `bench/s${String(i).padStart(3, "0")}`, { v: `bench-value-${i}` });
const stats = createServer((_req, res) => {
  res.end(JSON.stringify({ requests: v.requests.length, maxInFlight: v.maxInFlight }));
});
await new Promise<void>((r) => stats.listen(0, "127.0.0.1", () => r()));
const statsPort = (stats.address() as { port: number }).port;
process.stdout.write(JSON.stringify({ url: v.url, token: v.rootToken, stats: `http://127.0.0.1:${statsPort}` }) + "\n");
const stop = async () => {
  stats.close();
  await v.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
