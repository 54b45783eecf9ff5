/**
 * Requests per minute with 10 Vault secrets while nothing changes (the default poll), and during
 * a 150 s seal of a real OpenBao (raft storage, initialised and unsealed with one key share;
 * sealed with `bao operator seal`, unsealed after). An outage must not multiply the requests:
 * latchkey's rate while Vault is sealed must stay at or under its idle rate. envconsul runs
 * beside it at its own defaults, each with its own token; a counting proxy in front of OpenBao
 * records every request (a sealed OpenBao answers before its audit devices see anything).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../lib/proc.ts";
import { fmt, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";
import { baoBinary } from "../../test/servers/openbao.ts";
import {
  appPid, clientToken, countingProxy, envconsul, envconsulConfig, latchkeyEnv, OPENBAO_VERSION, putSecrets, startBao, supervise, type Hit, type Supervised,
} from "../providers/vault-openbao.ts";

const N = 10;

interface Client {
  name: string;
  token: string;
  sup: Supervised;
  app: number;
}

/** Warning lines a client logged, deduplicated, shortened: what an operator sees during the outage. */
function logSample(text: string, max = 3): string[] {
  const seen = new Set<string>();
  for (const l of text.split("\n")) {
    const t = l.replace(/^\S+Z\s+/, "").replace(/\s+/g, " ").trim();
    if (!t) continue;
    const key = t.replace(/\d+(\.\d+)?(ms|s)\b/g, "N").replace(/inMs=\d+/g, "inMs=N");
    if ([...seen].some((s) => s.replace(/\d+(\.\d+)?(ms|s)\b/g, "N").replace(/inMs=\d+/g, "inMs=N") === key)) continue;
    seen.add(t.length > 300 ? t.slice(0, 300) + "…" : t);
    if (seen.size >= max) break;
  }
  return [...seen];
}

export const benchmark: Benchmark = {
  name: "vault-outage",
  title: "Vault: requests per minute, idle and during a 150 s seal (OpenBao, vs envconsul)",
  order: 46,
  async run(ctx: Context): Promise<string> {
    const idleMin = Number(process.env.BENCH_IDLE_MIN ?? (ctx.quick ? 1 : 5));
    const sealS = Number(process.env.BENCH_SEAL_S ?? (ctx.quick ? 30 : 150));
    const afterS = Number(process.env.BENCH_AFTER_S ?? (ctx.quick ? 30 : 120));
    const ec = envconsul(ctx.log);
    ctx.log(ec.note);
    const bao = await startBao(true);
    const proxy = await countingProxy(bao.url);
    const tmp = mkdtempSync(join(tmpdir(), "lk-bench-vout-"));
    const clients: Client[] = [];
    let stderrAt: Map<string, number> = new Map();
    try {
      await putSecrets(bao, N);
      const lk = await clientToken(bao);
      const lkEnv = { ...latchkeyEnv(bao, lk.token, N), VAULT_ADDR: proxy.url };
      const sup = await supervise([ctx.latchkey, "--log-level", "warn", "--", "sleep", "infinity"], lkEnv, "sleep");
      clients.push({ name: "latchkey (default --poll-interval 60s)", token: lk.token, sup, app: appPid(sup.pid, "sleep") });
      if (ec.bin) {
        const t = await clientToken(bao);
        const cfg = envconsulConfig(join(tmp, "ec"), proxy.url, t.token, N, null);
        const s = await supervise([ec.bin, "-config", cfg, "-log-level", "warn", "sleep", "infinity"], { PATH: "/usr/bin:/bin" }, "sleep");
        clients.push({ name: "envconsul (default: default_lease_duration 5m)", token: t.token, sup: s, app: appPid(s.pid, "sleep") });
        // And at latchkey's default poll, for a like-for-like rate: re-reads every ~54 s.
        const t2 = await clientToken(bao);
        const cfg2 = envconsulConfig(join(tmp, "ec60"), proxy.url, t2.token, N, "60s");
        const s2 = await supervise([ec.bin, "-config", cfg2, "-log-level", "warn", "sleep", "infinity"], { PATH: "/usr/bin:/bin" }, "sleep");
        clients.push({ name: "envconsul (default_lease_duration 60s)", token: t2.token, sup: s2, app: appPid(s2.pid, "sleep") });
      }
      const count = (c: Client, from: number, to: number): Hit[] => (proxy.hits.get(c.token) ?? []).filter((h) => h.at >= from && h.at < to);
      // Past the start (latchkey looks once more right after the app starts).
      await sleep(5000);
      const idle0 = Date.now();
      ctx.log(`idle for ${idleMin} min`);
      await sleep(idleMin * 60_000);
      const idle1 = Date.now();
      stderrAt = new Map(clients.map((c) => [c.name, c.sup.stderr().length]));
      const bin = baoBinary()!;
      execFileSync(bin, ["operator", "seal"], { env: { PATH: "/usr/bin:/bin", HOME: join(bao.dir, "home"), BAO_ADDR: bao.url, BAO_TOKEN: bao.rootToken }, stdio: ["ignore", "ignore", "pipe"] });
      const seal0 = Date.now();
      ctx.log(`sealed (bao operator seal); ${sealS} s`);
      await sleep(sealS * 1000);
      const seal1 = Date.now();
      await bao.unseal();
      const unsealed = Date.now();
      ctx.log(`unsealed; watching ${afterS} s`);
      await sleep(afterS * 1000);
      const after1 = Date.now();
      const rows: string[][] = [];
      const notes: string[] = [];
      const rate = (hits: Hit[], ms: number) => (hits.length / ms) * 60_000;
      let lkIdle = NaN;
      let lkSealed = NaN;
      for (const c of clients) {
        const idle = count(c, idle0, idle1);
        const sealed = count(c, seal0, seal1);
        const after = count(c, unsealed, after1);
        const r503 = sealed.filter((h) => h.status === 503).length;
        const stillApp = appPid(c.sup.pid, "sleep");
        const app = stillApp === 0 ? "**gone** (the supervisor exited or stopped it)" : stillApp === c.app ? "same pid, not restarted" : "restarted";
        rows.push([c.name, fmt(rate(idle, idle1 - idle0), 1), fmt(rate(sealed, seal1 - seal0), 1), `${sealed.length} (${r503} × 503)`, String(after.length), app]);
        if (c === clients[0]) {
          lkIdle = rate(idle, idle1 - idle0);
          lkSealed = rate(sealed, seal1 - seal0);
        }
        // Bursts: a poll reads every secret's version within a moment; polls are seconds apart.
        const bursts = (hits: Hit[]) => hits.reduce<number[]>((b, h, i) => (i === 0 || h.at - hits[i - 1]!.at > 2000 ? [...b, h.at] : b), []);
        const sb = bursts(sealed).map((at) => `${fmt((at - seal0) / 1000, 0)} s`);
        notes.push(`${c.name}: polls (bursts of requests) during the seal at ${sb.length ? sb.join(", ") : "none"} after \`bao operator seal\`; ${bursts(idle).length} polls in the ${idleMin} min idle window.`);
        const said = logSample(c.sup.stderr().slice(stderrAt.get(c.name) ?? 0));
        notes.push(`${c.name} logged during and after the seal${said.length ? `: ${said.map((s) => `\`${s.replace(/`/g, "'")}\``).join("; ")}` : ": nothing"}.`);
      }
      return [
        `OpenBao ${OPENBAO_VERSION} with raft storage (initialised, one key share) on 127.0.0.1; ${N} KV v2 secrets; each client with its own no-TTL token`,
        "(no renewals), both running `sleep infinity` at their default settings. Requests are counted by a small HTTP proxy in front of OpenBao, per token",
        "(a sealed OpenBao answers 503 before its audit devices see anything). Windows: idle " + `${idleMin} min after the start; sealed ${sealS} s, from \`bao operator seal\``,
        `until the unseal; after: ${afterS} s from the unseal.`,
        ec.bin ? `envconsul: ${ec.version}; ${ec.note}; \`envconsul -config FILE sleep infinity\`, once at its default (a secret without a lease is re-read at ~90% of \`default_lease_duration\`, 5 min) and once with \`default_lease_duration = "60s"\`, latchkey's default poll.` : `envconsul: ${ec.note}.`,
        "",
        table(["", "idle requests/min", "sealed requests/min", "requests while sealed", `requests in the ${afterS} s after`, "the app after the outage"], rows),
        "",
        ...notes.flatMap((n) => [n, ""]),
        verdict(lkSealed <= lkIdle, `latchkey sent ${fmt(lkSealed, 1)} requests/min while Vault was sealed, ${fmt(lkIdle, 1)}/min idle (target: sealed ≤ idle)`),
      ].join("\n");
    } finally {
      for (const c of clients) await c.sup.stop();
      await proxy.close();
      await bao.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
