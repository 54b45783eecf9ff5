/**
 * What an `aws-sm://` reference adds to a start (issue 15, target 2): the built binary,
 * `latchkey -- /bin/true` with no reference, one and ten, against moto on 127.0.0.1, side by
 * side with the reference peer: a Go program on aws-sdk-go-v2 that fetches the same secrets
 * one by one as chamber and secrets-init do (bench/go/awsfetch, built here into .cache/).
 *
 * All variants run in every round, in an order that rotates; each round gives one ratio per
 * variant against the no-reference start of the same round (bench/lib/paired.ts says why).
 * Wall and CPU (user+sys of the process, from wait4) come from bench/fixtures/rusage.c.
 * Targets: one reference adds ≤ 25 ms and ≤ 1.6x; ten ≤ 1.7x.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { motoEnv, startMoto } from "../../test/servers/aws/moto.ts";
import { compileC } from "../lib/native.ts";
import { root } from "../lib/paths.ts";
import { fmt, median, percentile, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const ONE_MS = 25;
const ONE_RATIO = 1.6;
const TEN_RATIO = 1.7;

interface Variant {
  name: string;
  argv: string[];
  env: Record<string, string>;
  wall: number[];
  cpu: number[];
}

/** bench/go/awsfetch, built with the Go toolchain into .cache/; null (and why) without Go. */
function buildGoPeer(log: (m: string) => void): { exe: string | null; why?: string } {
  const go = ["/usr/local/go/bin/go", "go"].find((g) => g.includes("/") ? existsSync(g) : spawnSync(g, ["version"]).status === 0);
  if (!go) return { exe: null, why: "no Go toolchain on this machine" };
  const cache = join(root, ".cache");
  mkdirSync(cache, { recursive: true });
  const exe = join(cache, "awsfetch");
  log("building the Go peer (bench/go/awsfetch, aws-sdk-go-v2) into .cache/");
  try {
    execFileSync(go, ["build", "-trimpath", "-ldflags=-s -w", "-o", exe, "."], {
      cwd: join(root, "bench/go/awsfetch"),
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, GOPATH: join(cache, "gopath"), GOCACHE: join(cache, "gocache"), GOFLAGS: "-modcacherw" },
    });
  } catch (e) {
    return { exe: null, why: `go build failed: ${String((e as { stderr?: Buffer }).stderr ?? e).split("\n")[0]}` };
  }
  return { exe };
}

export const benchmark: Benchmark = {
  name: "aws-start",
  title: "What an aws-sm:// reference adds to a start",
  order: 44,
  async run(ctx: Context): Promise<string> {
    const rounds = Number(process.env.BENCH_ROUNDS ?? (ctx.quick ? 5 : 40));
    const rusage = compileC("rusage");
    const peer = buildGoPeer(ctx.log);
    let moto = await startMoto();
    const ids = Array.from({ length: 10 }, (_, i) => `start/s${String(i).padStart(2, "0")}`);
    const fill = async () => {
      const admin = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
      for (const id of ids) await admin.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify({ password: `bench-only-${id}` }) }));
      admin.destroy();
    };
    try {
      await fill();
      const refs = (n: number) => Object.fromEntries(ids.slice(0, n).map((id, i) => [`S${i}`, `aws-sm://${id}#password`]));
      // Each run's environment is made when it runs: moto's address changes when it is restarted.
      const v = (name: string, argv: string[], extra: Record<string, string> = {}): Variant => ({ name, argv, env: extra, wall: [], cpu: [] });
      const variants = [
        v("latchkey, no reference", [ctx.latchkey, "--", "/bin/true"]),
        v("latchkey, 1 aws-sm:// reference", [ctx.latchkey, "--", "/bin/true"], refs(1)),
        v("latchkey, 10 aws-sm:// references", [ctx.latchkey, "--", "/bin/true"], refs(10)),
      ];
      // BENCH_BASELINE=an earlier build: the same three starts with it, in the same rounds.
      const baseline = process.env.BENCH_BASELINE;
      if (baseline) {
        variants.push(
          v("baseline build, no reference", [baseline, "--", "/bin/true"]),
          v("baseline build, 1 reference", [baseline, "--", "/bin/true"], refs(1)),
          v("baseline build, 10 references", [baseline, "--", "/bin/true"], refs(10)),
        );
      }
      if (peer.exe) {
        variants.push(
          v("Go peer (aws-sdk-go-v2), config only", [peer.exe]),
          v("Go peer, 1 secret", [peer.exe, `S0=${ids[0]}`]),
          v("Go peer, 10 secrets one by one", [peer.exe, ...ids.map((id, i) => `S${i}=${id}`)]),
        );
      }
      // moto (a Python server) wedged twice here after a few hundred short connections: it
      // answered nothing more, and the Go peer waits forever. A run killed after 20 s restarts
      // moto with the same secrets and runs again (counted in the results).
      let stalls = 0;
      const once = async (x: Variant, keep: boolean): Promise<void> => {
        const env = { PATH: process.env.PATH ?? "", ...motoEnv(moto), ...x.env, RUSAGE_TIMEOUT_S: "20" };
        const r = spawnSync(rusage, x.argv, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
        if (r.stderr.includes("rusage-timeout") && stalls < 10) {
          stalls++;
          ctx.log(`aws-start: ${x.name} got no answer in 20 s; restarting moto`);
          await moto.stop();
          moto = await startMoto();
          await fill();
          return once(x, keep);
        }
        const line = r.stderr.split("\n").find((l) => l.startsWith("rusage "));
        const [wall, user, sys, status] = (line ?? "").split(" ").slice(1).map(Number);
        if (!line || status !== 0) throw new Error(`aws-start: ${x.name} failed (status ${status}): ${r.stderr.split("\n")[0]}`);
        if (keep) {
          x.wall.push(wall!);
          x.cpu.push(user! + sys!);
        }
      };
      for (const x of variants) await once(x, false); // warm the page cache and moto
      for (let r = 0; r < rounds; r++) {
        if (r % 10 === 0) ctx.log(`aws-start round ${r + 1}/${rounds}`);
        const k = r % variants.length;
        for (const x of [...variants.slice(k), ...variants.slice(0, k)]) await once(x, true);
      }
      const none = variants[0]!;
      // A baseline build's starts are compared with its own start without a reference.
      const noneOf = (x: Variant) => (x.name.startsWith("baseline") ? variants.find((y) => y.name === "baseline build, no reference")! : none);
      const ratio = (x: Variant, f: "wall" | "cpu") => x[f].map((t, i) => t / noneOf(x)[f][i]!);
      const delta = (x: Variant, f: "wall" | "cpu") => x[f].map((t, i) => t - noneOf(x)[f][i]!);
      const rows = variants.map((x) => [
        x === variants[1] || x === variants[2] ? `**${x.name}**` : x.name,
        fmt(median(x.wall)), fmt(percentile(x.wall, 25)) + "–" + fmt(percentile(x.wall, 75)), fmt(median(x.cpu)),
        noneOf(x) === x ? "" : fmt(median(ratio(x, "wall")), 2), noneOf(x) === x ? "" : fmt(median(delta(x, "wall"))), noneOf(x) === x ? "" : fmt(median(delta(x, "cpu"))),
      ]);
      const oneD = median(delta(variants[1]!, "wall"));
      const oneR = median(ratio(variants[1]!, "wall"));
      const tenR = median(ratio(variants[2]!, "wall"));
      return [
        `moto on 127.0.0.1, dummy credentials in the environment (the SDKs' credential chains stop at the first step), ${rounds} rounds, every`,
        "variant once per round in a rotating order. Wall and CPU (user+sys) of the process from wait4(2); medians in ms; \"vs none\" is",
        "the median over rounds of the ratio (or difference) to latchkey's start with no reference in the same round (the Go peer's too).",
        peer.exe ? "The Go peer (bench/go/awsfetch) loads the default config (whole credential chain) and calls GetSecretValue per secret, one by one." : `No Go peer: ${peer.why}.`,
        "",
        ...(baseline ? [`Baseline build (\`BENCH_BASELINE\`): ${baseline}; its rows compare with its own start without a reference.`, ""] : []),
        ...(stalls ? [`${stalls} run(s) got no answer from moto within 20 s: moto was restarted and they ran again.`, ""] : []),
        table(["what", "wall", "wall p25–p75", "CPU", "wall vs none (×)", "wall − none", "CPU − none"], rows),
        "",
        verdict(oneD <= ONE_MS && oneR <= ONE_RATIO, `one reference adds ${fmt(oneD)} ms, ${fmt(oneR, 2)}× (target ≤ ${ONE_MS} ms and ≤ ${ONE_RATIO}×)`),
        "",
        verdict(tenR <= TEN_RATIO, `ten references: ${fmt(tenR, 2)}× (target ≤ ${TEN_RATIO}×)`),
      ].join("\n");
    } finally {
      await moto.stop();
    }
  },
};
