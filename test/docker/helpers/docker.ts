/**
 * Docker for the container tests: make sure the engine and the images exist (scripts/docker-setup,
 * idempotent and fast once done), run docker commands, and remove everything a test file
 * created. Every object carries the label org.latchkey.test=<this file's run id> and is removed
 * by that label in afterAll, also when a test failed half-way.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { run, type RunOptions, type RunResult } from "../../helpers/run.ts";
import { ROOT } from "../../helpers/paths.ts";

/** Debian's CLI: a standalone newer CLI elsewhere on PATH wants the buildx plugin for BuildKit. */
export const DOCKER = process.env.DOCKER ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");
export const IMAGES = {
  latchkey: "latchkey:local",
  app: "latchkey-example/python-app:local",
  shell: "latchkey-example/python-app-shell:local",
  appBase: "latchkey-local/python-app:bookworm",
} as const;

export const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
export const LABEL = `org.latchkey.test=${RUN_ID}`;
/** The options that make the example's hardened run (see examples/python-app/README.md). */
export const HARDENED = [
  "--read-only", "--tmpfs", "/tmp",
  "--cap-drop", "ALL", "--cap-add", "SETUID", "--cap-add", "SETGID",
  "--security-opt", "no-new-privileges",
];

export interface DockerStatus {
  ok: boolean;
  reason: string;
}

let status: DockerStatus | null = null;
/**
 * Run scripts/docker-setup images once per test file. Docker missing and impossible to
 * install/start → { ok: false, reason } (tests skip, printing it); an image that does not
 * build is a failure, not a skip.
 */
export function ensureDocker(): DockerStatus {
  if (status) return status;
  if (process.env.LATCHKEY_SKIP_DOCKER) return (status = { ok: false, reason: `LATCHKEY_SKIP_DOCKER=${process.env.LATCHKEY_SKIP_DOCKER}` });
  const r = spawnSync(join(ROOT, "scripts", "docker-setup"), ["images"], { encoding: "utf8", timeout: 900_000 });
  if (r.status === 0) return (status = { ok: true, reason: "" });
  const file = join(ROOT, ".cache", "docker", "status");
  const said = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  if (r.status === 3 && said.startsWith("unavailable:")) return (status = { ok: false, reason: said });
  throw new Error(`scripts/docker-setup images failed (status ${r.status}): ${said}\n${r.stderr.slice(-4000)}`);
}

/**
 * describe-level guard: returns whether Docker is usable and prints why not once.
 * Use as `const docker = dockerAvailable(); describe.skipIf(!docker.ok)(...)`.
 */
export function dockerAvailable(file: string): DockerStatus {
  const s = ensureDocker();
  if (!s.ok) console.log(`SKIPPED ${file}: Docker is not available here (${s.reason})`);
  return s;
}

export function docker(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(DOCKER, args, { timeoutMs: 180_000, ...opts, env: { ...process.env, DOCKER_BUILDKIT: "1", ...opts.env } });
}

/** docker … that must succeed; returns trimmed stdout. */
export async function dockerOk(args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} → ${r.code}\n${r.stderr.slice(-2000)}`);
  return r.stdout.trim();
}

export function uniqueName(what: string): string {
  return `lk-${what}-${RUN_ID}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Python run inside a container with `docker exec`, script on stdin; parses its JSON output. */
export async function execPython<T>(container: string, script: string, opts: { user?: string; args?: string[] } = {}): Promise<T> {
  const args = ["exec", "-i", ...(opts.user ? ["-u", opts.user] : []), container, "python3", "-", ...(opts.args ?? [])];
  const r = await docker(args, { input: script });
  if (r.code !== 0) throw new Error(`python in ${container} → ${r.code}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as T;
}

/** GET a path of the example app from inside its container (no traffic leaves the container). */
export async function appGet<T = unknown>(container: string, path: string, port = 8000): Promise<{ status: number; body: T }> {
  return execPython(container, `
import json, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1:${port}${path}", timeout=5)
    print(json.dumps({"status": r.status, "body": json.loads(r.read() or b"null")}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": json.loads(e.read() or b"null")}))
`);
}

export async function health(container: string): Promise<string> {
  return dockerOk(["inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", container]);
}

/** Poll `check` every `everyMs` until it returns a value (not undefined) or `ms` pass. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Wait until a container's health status is `want`; returns ms waited. */
export async function waitHealth(container: string, want: string, ms = 60_000): Promise<number> {
  const t0 = Date.now();
  await waitFor(`${container} to be ${want}`, ms, async () => ((await health(container)) === want ? true : undefined), 200);
  return Date.now() - t0;
}

/** Remove everything labelled with this file's run id (images built by a test too). Safe to call twice. */
export async function cleanup(): Promise<void> {
  const by = ["--filter", `label=${LABEL}`];
  const services = (await docker(["service", "ls", "-q", ...by])).stdout.split(/\s+/).filter(Boolean);
  if (services.length) await docker(["service", "rm", ...services]);
  const containers = (await docker(["ps", "-aq", ...by])).stdout.split(/\s+/).filter(Boolean);
  if (containers.length) await docker(["rm", "-f", "-v", ...containers]);
  const secrets = (await docker(["secret", "ls", "-q", ...by])).stdout.split(/\s+/).filter(Boolean);
  if (secrets.length) await docker(["secret", "rm", ...secrets]);
  const networks = (await docker(["network", "ls", "-q", ...by])).stdout.split(/\s+/).filter(Boolean);
  if (networks.length) await docker(["network", "rm", ...networks]);
  const volumes = (await docker(["volume", "ls", "-q", ...by])).stdout.split(/\s+/).filter(Boolean);
  if (volumes.length) await docker(["volume", "rm", "-f", ...volumes]);
  const images = [...new Set((await docker(["images", "-q", ...by])).stdout.split(/\s+/).filter(Boolean))];
  if (images.length) await docker(["rmi", "-f", ...images]);
}

/** Register cleanup for a test file that uses Docker. */
export function useDockerCleanup(ok: boolean): void {
  useDaemonModeShared(ok);
  beforeAll(async () => {
    if (ok) await cleanup();
  });
  afterAll(async () => {
    if (ok) await cleanup();
  }, 180_000);
}

/**
 * Hold a machine-wide lock (flock on /tmp/latchkey-NAME.lock) until the returned function is
 * called: test runs from several work trees share one Docker daemon. `shared` takes it as a
 * reader (many at once), otherwise as the only holder. If this process dies, the lock goes with
 * it (flock's child exits at EOF on its stdin).
 */
export function machineLock(name: string, opts: { shared?: boolean; timeoutMs?: number } = {}): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const p = spawn("flock", [...(opts.shared ? ["-s"] : []), "-w", String(Math.ceil(timeoutMs / 1000)), `/tmp/latchkey-${name}.lock`,
      "sh", "-c", "echo locked; exec cat >/dev/null"], { stdio: ["pipe", "pipe", "inherit"] });
    let said = "";
    p.stdout!.setEncoding("utf8").on("data", (d: string) => {
      said += d;
      if (said.includes("locked")) resolve(() => p.stdin!.end());
    });
    p.on("error", reject);
    p.on("exit", (code) => reject(new Error(`could not take the ${name} lock (flock exit ${code})`)));
  });
}

/**
 * The daemon's mode: `docker swarm init` and `swarm leave` while a container is being created
 * or connected leave that container with no networks in `docker inspect` (seen in CI: the
 * compose test's container had lost both of its networks while the swarm test began). The
 * swarm test holds this lock alone; every other test file that makes containers holds it shared.
 */
export const DAEMON_MODE_LOCK = "docker-daemon-mode";

/** Hold the daemon-mode lock shared for the whole test file (taken before its own hooks run). */
export function useDaemonModeShared(ok: boolean): void {
  let unlock: (() => void) | null = null;
  beforeAll(async () => {
    if (ok) unlock = await machineLock(DAEMON_MODE_LOCK, { shared: true });
  }, 720_000);
  afterAll(() => unlock?.());
}

/**
 * This machine's Debian mirror, as scripts/docker-setup passes it to the Dockerfile
 * (DEBIAN_MIRROR: the local build base has no apt sources); "" when none is found.
 */
export function debianMirror(): string {
  try {
    const sources = readFileSync("/etc/apt/sources.list.d/debian.sources", "utf8");
    const m = /^URIs:\s*(\S+)/m.exec(sources.split("\n").filter((l) => !/^URIs:.*security/.test(l)).join("\n"));
    if (m) return m[1]!;
  } catch { /* try sources.list */ }
  try {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(https?:\S+)\s+bookworm\s/m.exec(readFileSync("/etc/apt/sources.list", "utf8"));
    if (m) return m[1]!;
  } catch { /* none */ }
  return "";
}
