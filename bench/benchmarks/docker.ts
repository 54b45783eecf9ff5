/**
 * Containers, side by side in one run: the Python example (examples/python-app) with latchkey
 * as its entrypoint, the same app with the shell-entrypoint way it replaces (bash script +
 * dumb-init + gosu, test/docker/fixtures/shell-entrypoint) and with Docker's own init
 * (`docker run --init`: tini + the same script + gosu). All read the same file secrets from a
 * bind-mounted /run/secrets, drop to uid 1001 and run in the same hardened container.
 *
 * - `docker stop -t 10`: gunicorn (which drains its workers) and a prompt app (exits at once on
 *   SIGTERM, so the figure is the init's own cost); wall time, exit code, SIGKILL path or not.
 * - `docker run -d` → healthy (HEALTHCHECK every 250 ms; latchkey image: `latchkey health`,
 *   shell image: python3 urllib, as there is no curl).
 * - Image sizes and the latchkey executable's size, plain and gzipped, and its .cjs bundle.
 *
 * Needs Docker: scripts/docker-setup images (installs and starts it, builds the images).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { out, root } from "../lib/paths.ts";
import { fmt, median, table, verdict } from "../lib/stats.ts";
import type { Benchmark, Context } from "../lib/types.ts";

const DOCKER = process.env.DOCKER ?? "/usr/bin/docker";
const LABEL = `org.latchkey.bench=${process.pid}`;
const HARDENED = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--cap-add", "SETUID", "--cap-add", "SETGID",
  "--cap-add", "KILL", "--security-opt", "no-new-privileges"];
const PROMPT_APP = ["python3", "-c", "import signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); print('ready', flush=True); signal.pause()"];

interface Variant { name: string; image: string; args: string[]; cmd?: string[] }
const VARIANTS: Variant[] = [
  // info level: a restart or a forwarded signal is in the log kept for an unexpected exit status.
  { name: "**latchkey**", image: "latchkey-example/python-app:local", args: ["-e", "LATCHKEY_LOG_LEVEL=info"] },
  // dumb-init signals the app's whole process group by default; this row does the same.
  { name: "latchkey --signal-group", image: "latchkey-example/python-app:local", args: ["-e", "LATCHKEY_SIGNAL_GROUP=1", "-e", "LATCHKEY_LOG_LEVEL=info"] },
  { name: "bash + dumb-init + gosu", image: "latchkey-example/python-app-shell:local", args: [] },
  { name: "docker run --init (tini) + bash + gosu", image: "latchkey-example/python-app-shell:local",
    // --entrypoint also clears the image's CMD: give it back.
    args: ["--init", "--entrypoint", "/usr/local/bin/docker-entrypoint.sh"], cmd: ["gunicorn", "--config", "/app/gunicorn.conf.py", "app:app"] },
];

function docker(args: string[], timeoutMs = 120_000): { code: number | null; out: string; err: string } {
  const r = spawnSync(DOCKER, args, { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() };
}
function dockerOk(args: string[]): string {
  const r = docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.slice(0, 3).join(" ")} … → ${r.code}: ${r.err.slice(-500)}`);
  return r.out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ms: number, check: () => boolean, everyMs = 50): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (check()) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Sample { healthyMs: number; stopMs: number; exit: number }

async function once(v: Variant, secrets: string, app: "gunicorn" | "prompt", onOdd?: (m: string) => void): Promise<Sample> {
  const name = `lk-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const health = app === "gunicorn" ? ["--health-interval", "250ms", "--health-timeout", "3s", "--health-start-period", "60s"] : ["--no-healthcheck"];
  const t0 = performance.now();
  dockerOk(["run", "-d", "--name", name, "--label", LABEL, ...HARDENED, "-v", `${secrets}:/run/secrets:ro`, ...health, ...v.args, v.image,
    ...(app === "prompt" ? PROMPT_APP : (v.cmd ?? []))]);
  try {
    let healthyMs = NaN;
    if (app === "gunicorn") {
      await waitFor(`${name} healthy`, 60_000, () => docker(["inspect", "-f", "{{.State.Health.Status}}", name]).out === "healthy");
      healthyMs = performance.now() - t0;
    } else {
      await waitFor(`${name} ready`, 30_000, () => docker(["logs", name]).out.includes("ready"));
    }
    const s0 = performance.now();
    dockerOk(["stop", "-t", "10", name]);
    const stopMs = performance.now() - s0;
    const exit = Number(dockerOk(["inspect", "-f", "{{.State.ExitCode}}", name]));
    if (exit !== 0) {
      // Keep what the init and the app said, to explain an unexpected exit status.
      const logs = docker(["logs", name]);
      mkdirSync(out, { recursive: true });
      const file = join(out, `docker-${name}.log`);
      writeFileSync(file, `${logs.out}\n${logs.err}\n`);
      onOdd?.(`${v.name.replace(/\*/g, "")} ${app}: exit ${exit}; container log in ${file}`);
    }
    return { healthyMs, stopMs, exit };
  } finally {
    docker(["rm", "-f", name]);
  }
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

export const benchmark: Benchmark = {
  name: "docker",
  title: "Docker",
  order: 70,
  async run(ctx: Context): Promise<string> {
    ctx.log("docker: scripts/docker-setup images (engine, base images, example images)");
    execFileSync(join(root, "scripts", "docker-setup"), ["images"], { stdio: ["ignore", "ignore", "inherit"] });
    const reps = Number(process.env.BENCH_DOCKER_REPS ?? (ctx.quick ? 1 : 5));
    const secrets = mkdtempSync(join(tmpdir(), "lk-bench-docker-"));
    writeFileSync(join(secrets, "db-password"), "bench-db-password\n", { mode: 0o600 });
    writeFileSync(join(secrets, "api-key"), "bench-api-key\n", { mode: 0o600 });
    const samples = new Map<string, Sample[]>();
    const key = (v: Variant, app: string) => `${v.name}|${app}`;
    try {
      for (let r = 1; r <= reps; r++) {
        for (const app of ["gunicorn", "prompt"] as const) {
          for (const v of VARIANTS) {
            ctx.log(`docker ${r}/${reps}: ${app} with ${v.name.replace(/\*/g, "")}`);
            const s = await once(v, secrets, app, ctx.log);
            samples.set(key(v, app), [...(samples.get(key(v, app)) ?? []), s]);
          }
        }
      }
    } finally {
      rmSync(secrets, { recursive: true, force: true });
      const left = docker(["ps", "-aq", "--filter", `label=${LABEL}`]).out.split(/\s+/).filter(Boolean);
      if (left.length) docker(["rm", "-f", ...left]);
    }

    const stopRows: string[][] = [];
    for (const app of ["gunicorn", "prompt"] as const) {
      const tini = median(samples.get(key(VARIANTS[VARIANTS.length - 1]!, app))!.map((s) => s.stopMs));
      for (const v of VARIANTS) {
        const ss = samples.get(key(v, app))!;
        const killed = ss.filter((s) => s.exit === 137 || s.stopMs >= 9_500).length;
        const m = median(ss.map((s) => s.stopMs));
        stopRows.push([app === "gunicorn" ? "gunicorn (2 workers)" : "prompt app", v.name,
          fmt(m / 1000, 2), `${m >= tini ? "+" : "−"}${fmt(Math.abs(m - tini) / 1000, 2)}`, fmt(Math.max(...ss.map((s) => s.stopMs)) / 1000, 2),
          [...new Set(ss.map((s) => s.exit))].join(", "), String(killed)]);
      }
    }
    const healthRows = VARIANTS.map((v) => {
      const ss = samples.get(key(v, "gunicorn"))!;
      return [v.name, fmt(median(ss.map((s) => s.healthyMs)) / 1000, 2), fmt(Math.min(...ss.map((s) => s.healthyMs)) / 1000, 2),
        fmt(Math.max(...ss.map((s) => s.healthyMs)) / 1000, 2)];
    });

    const size = (image: string) => Number(dockerOk(["image", "inspect", "-f", "{{.Size}}", image]));
    const images = [
      ["python-app base (Debian bookworm minbase + python3-flask, gunicorn, libatomic1)", "latchkey-local/python-app:bookworm"],
      ["**example app with latchkey**", "latchkey-example/python-app:local"],
      ["example app with bash + dumb-init + gosu", "latchkey-example/python-app-shell:local"],
      ["latchkey image (FROM scratch: /opt/latchkey + /latchkey + /LICENSE)", "latchkey:local"],
    ].map(([what, image]) => [what!, `\`${image}\``, mib(size(image!))]);
    const base = size("latchkey-local/python-app:bookworm");
    const added = (image: string) => mib(size(image) - base);

    const exe = readFileSync(ctx.latchkey);
    const exeGz = gzipSync(exe, { level: 9 }).length;
    const cjs = statSync(ctx.bundle).size;
    const cjsGz = gzipSync(readFileSync(ctx.bundle), { level: 9 }).length;

    const lkGun = samples.get(key(VARIANTS[0]!, "gunicorn"))!;
    const lkPrompt = samples.get(key(VARIANTS[0]!, "prompt"))!;
    const lkAll = [...lkGun, ...lkPrompt];
    const noKill = lkAll.every((s) => s.exit !== 137 && s.stopMs < 9_500);
    const promptMedian = median(lkPrompt.map((s) => s.stopMs));
    const others = VARIANTS.slice(2).map((v) => `${v.name} ${fmt(median(samples.get(key(v, "prompt"))!.map((s) => s.stopMs)) / 1000, 2)} s`).join(", ");
    return [
      `${reps} rounds, variants interleaved within each round, every container hardened the same way`,
      `(\`${HARDENED.join(" ")}\`) with the same two file secrets bind-mounted at /run/secrets and dropping to uid 1001.`,
      "\"prompt app\" exits at once on SIGTERM: its stop time is the init's own cost; gunicorn's includes draining its workers.",
      "Times are wall-clock seconds around the docker CLI call (the CLI itself costs ~30–60 ms here).",
      "",
      "### `docker stop -t 10`",
      "",
      table(["app", "init", "median s", "vs --init s", "max s", "exit codes", "SIGKILLed"], stopRows),
      "",
      verdict(noKill && promptMedian <= 300,
        `latchkey ${noKill ? "never took" : "TOOK"} the SIGKILL path (${lkAll.length} stops); the prompt app stopped in ${fmt(promptMedian / 1000, 2)} s (median; target ≤ 0.3 s; same run: ${others})`),
      "",
      "### `docker run -d` → healthy (HEALTHCHECK every 250 ms)",
      "",
      table(["init", "median s", "min s", "max s"], healthRows),
      "",
      "### Sizes",
      "",
      table(["image", "tag", "size"], images),
      "",
      `Added to the base: latchkey ${added("latchkey-example/python-app:local")}, bash + dumb-init + gosu + script ${added("latchkey-example/python-app-shell:local")}.`,
      "",
      table(["file", "size", "gzip -9"], [
        ["dist/latchkey (single executable, stripped Node runtime + bundle)", mib(exe.length), mib(exeGz)],
        ["dist/latchkey.cjs (the bundle inside it)", mib(cjs), mib(cjsGz)],
      ]),
      "",
      verdict(exe.length <= 120 * 2 ** 20 && exeGz <= 45 * 2 ** 20, `executable ${mib(exe.length)} (target ≤ 120 MB), ${mib(exeGz)} gzipped (target ≤ 45 MB)`),
    ].join("\n");
  },
};
