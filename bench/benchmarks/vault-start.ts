/**
 * 100 KV v2 secrets at start, against a real OpenBao: the built binary's wall time for
 * `latchkey -- /bin/true` with 100 vault:// references, and the requests it sent (counted from
 * OpenBao's file audit log by the run's own token), side by side with `envconsul -once` reading
 * the same 100 secrets. Rounds interleave the two tools; every run gets a fresh token, so each
 * run's requests are exactly those with its token's HMAC in the audit log.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, median, percentile, table } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";
import { clientToken, envconsul, envconsulConfig, latchkeyEnv, OPENBAO_VERSION, putSecrets, requestsOf, startBao } from "../providers/vault-openbao.ts";

const N = 100;

interface Run {
  ms: number;
  requests: number;
  byPath: Map<string, number>;
}

/** Paths grouped by what they are for: the 100 reads collapse into one line. */
function kind(path: string): string {
  if (/^secret\/data\/bench\//.test(path)) return "secret/data/bench/sNNN (the reads)";
  if (/^sys\/internal\/ui\/mounts\/secret\/data\/bench\//.test(path)) return "sys/internal/ui/mounts/secret/data/bench/sNNN (mount and KV version preflight)";
  if (/^secret\/metadata\/bench\//.test(path)) return "secret/metadata/bench/sNNN";
  return path;
}

export const benchmark: Benchmark = {
  name: "vault-start",
  title: "Vault: 100 KV v2 secrets at start (OpenBao, vs envconsul)",
  order: 45,
  async run(ctx: Context): Promise<string> {
    const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 3 : 10));
    const ec = envconsul(ctx.log);
    ctx.log(ec.note);
    const bao = await startBao();
    const tmp = mkdtempSync(join(tmpdir(), "lk-bench-vstart-"));
    const runs: Record<string, Run[]> = { latchkey: [], envconsul: [] };
    try {
      await putSecrets(bao, N);
      const once = async (tool: "latchkey" | "envconsul"): Promise<Run> => {
        const t = await clientToken(bao);
        const [argv, env] = tool === "latchkey"
          ? [[ctx.latchkey, "--", "/bin/true"], latchkeyEnv(bao, t.token, N)]
          : [[ec.bin!, "-once", "-config", envconsulConfig(join(tmp, "ec"), bao.url, t.token, N, null), "/bin/true"], { PATH: "/usr/bin:/bin" }];
        const t0 = performance.now();
        const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"], timeout: 120_000 });
        const ms = performance.now() - t0;
        if (r.status !== 0) throw new Error(`${tool} exited ${r.status} ${r.signal ?? ""}: ${String(r.stderr).slice(-1500)}`);
        // The audit device writes the response entry after the answer is sent: let it land.
        await new Promise((res) => setTimeout(res, 300));
        const seen = requestsOf(bao, t.hmac);
        const byPath = new Map<string, number>();
        for (const e of seen) byPath.set(kind(e.path), (byPath.get(kind(e.path)) ?? 0) + 1);
        return { ms, requests: seen.length, byPath };
      };
      for (let r = 1; r <= rounds; r++) {
        ctx.log(`vault-start round ${r}/${rounds}`);
        const order: ("latchkey" | "envconsul")[] = ec.bin ? (r % 2 ? ["latchkey", "envconsul"] : ["envconsul", "latchkey"]) : ["latchkey"];
        for (const tool of order) runs[tool]!.push(await once(tool));
      }
    } finally {
      await bao.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
    const row = (name: string, xs: Run[]) => [
      name, String(median(xs.map((x) => x.requests))), `${Math.min(...xs.map((x) => x.requests))}–${Math.max(...xs.map((x) => x.requests))}`,
      fmt(median(xs.map((x) => x.ms)), 0), fmt(percentile(xs.map((x) => x.ms), 25), 0) + "–" + fmt(percentile(xs.map((x) => x.ms), 75), 0),
    ];
    const rows = [row("**latchkey -- /bin/true**", runs.latchkey!)];
    if (runs.envconsul!.length) rows.push(row("envconsul -once /bin/true", runs.envconsul!));
    const paths = (xs: Run[]) => [...xs[0]!.byPath.entries()].map(([p, c]) => `\`${p}\` ×${c}`).join(", ");
    const lkReq = median(runs.latchkey!.map((x) => x.requests));
    const lines = [
      `OpenBao ${OPENBAO_VERSION} (\`bao server -dev\`, in memory, file audit device) on 127.0.0.1; ${N} KV v2 secrets (\`secret/bench/sNNN\`, one key of ~12 bytes each);`,
      `${rounds} rounds, the tools interleaved (alternating which goes first); each run with a fresh no-TTL token with the root policy (nothing to renew),`,
      "its requests counted from the audit log by the token's HMAC; wall time from spawn to exit (the app is `/bin/true`), in ms.",
      `latchkey: \`latchkey -- /bin/true\` with S000…S099=vault://secret/data/bench/sNNN#v (default --vault-concurrency 16).`,
      ec.bin
        ? `envconsul (${ec.version}; ${ec.note}): \`envconsul -once -config FILE /bin/true\`, one \`secret { path = "secret/data/bench/sNNN" }\` block per secret, \`renew_token = false\`.`
        : `envconsul: ${ec.note}.`,
      "",
      table(["", "requests (median)", "requests (min–max)", "wall ms (median)", "wall ms (p25–p75)"], rows),
      "",
      `What latchkey sent: ${paths(runs.latchkey!)}.`,
    ];
    if (runs.envconsul!.length) {
      const ecReq = median(runs.envconsul!.map((x) => x.requests));
      lines.push("", `What envconsul sent: ${paths(runs.envconsul!)}.`, "",
        `**Requests: latchkey ${lkReq} for ${N} secrets, envconsul ${ecReq} (${fmt(lkReq / ecReq, 2)}×)**: latchkey asks for the mount once per mount, envconsul once per secret.`,
        "", `Wall time: latchkey ${fmt(median(runs.latchkey!.map((x) => x.ms)), 0)} ms, envconsul ${fmt(median(runs.envconsul!.map((x) => x.ms)), 0)} ms (medians; ${fmt(median(runs.envconsul!.map((x) => x.ms)) / median(runs.latchkey!.map((x) => x.ms)), 1)}× as long for envconsul).`);
    }
    return lines.join("\n");
  },
};
