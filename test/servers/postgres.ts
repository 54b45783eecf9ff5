/**
 * A throwaway PostgreSQL server for the Vault database secrets engine (dynamic credentials
 * with leases), on 127.0.0.1 and a free port, started and stopped (by pid) per test file.
 *
 * PostgreSQL refuses to run as root: under root the data directory is handed to `nobody` and
 * initdb/postgres run as that user. The binaries come from PATH (initdb, postgres), else from
 * Debian's package (/usr/lib/postgresql/N/bin); scripts/setup-system installs it when missing.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

const NOBODY = 65534;

/** The directory holding initdb and postgres, or null. */
export function postgresBin(): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  }
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    for (const v of readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
      if (existsSync(join(base, v, "bin", "initdb"))) return join(base, v, "bin");
    }
  }
  return null;
}

export class Postgres {
  port = 0;
  readonly password = `pg-admin-${Math.random().toString(36).slice(2)}`;
  readonly user = "postgres";
  readonly dir: string;
  proc: ChildProcess | null = null;
  #log = "";
  #bin = "";

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "latchkey-pg-"));
  }

  /** The connection URL template for Vault's database engine ({{username}}/{{password}} filled by Vault). */
  get vaultConnectionUrl(): string {
    return `postgresql://{{username}}:{{password}}@127.0.0.1:${this.port}/postgres?sslmode=disable`;
  }

  #asUser(): { uid?: number; gid?: number } {
    return process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  }

  async start(): Promise<this> {
    const bin = postgresBin();
    if (!bin) throw new Error("PostgreSQL's initdb/postgres are not installed: run scripts/setup-system test");
    this.#bin = bin;
    const data = join(this.dir, "data");
    const pw = join(this.dir, "pw");
    writeFileSync(pw, this.password + "\n");
    if (process.getuid?.() === 0) {
      chownSync(this.dir, NOBODY, NOBODY);
      chownSync(pw, NOBODY, NOBODY);
    }
    chmodSync(this.dir, 0o700);
    const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", this.user, "--pwfile", pw, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"], {
      ...this.#asUser(), encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" }, cwd: this.dir,
    });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
    let last = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      this.#log = "";
      const p = spawn(join(bin, "postgres"), ["-D", data, "-h", "127.0.0.1", "-p", String(this.port), "-k", this.dir, "-c", "fsync=off", "-c", "max_connections=50"], {
        ...this.#asUser(), stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" }, cwd: this.dir,
      });
      p.stderr!.on("data", (d: Buffer) => (this.#log = (this.#log + d.toString()).slice(-4000)));
      this.proc = p;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && p.exitCode === null) {
        if (/ready to accept connections/.test(this.#log)) return this;
        await new Promise((r) => setTimeout(r, 50));
      }
      last = this.#log;
      await this.#kill();
    }
    throw new Error(`postgres did not start: ${last}`);
  }

  /** Run SQL as `user` (default: the superuser); stdout, or throws with psql's error. */
  psql(sql: string, user = this.user, password = this.password): { ok: boolean; out: string; err: string } {
    const psql = existsSync(join(this.#bin, "psql")) ? join(this.#bin, "psql") : "psql";
    const r = spawnSync(psql, ["-h", "127.0.0.1", "-p", String(this.port), "-U", user, "-d", "postgres", "-tAc", sql], {
      encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" }, timeout: 10_000,
    });
    return { ok: r.status === 0, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() };
  }

  /** Does this role exist right now? (Vault drops a role when it revokes its lease.) */
  roleExists(name: string): boolean {
    const r = this.psql(`SELECT 1 FROM pg_roles WHERE rolname = '${name.replace(/'/g, "''")}'`);
    if (!r.ok) throw new Error(`psql: ${r.err}`);
    return r.out === "1";
  }

  /** Can these credentials log in now? */
  canLogin(user: string, password: string): boolean {
    return this.psql("SELECT 1", user, password).out === "1";
  }

  async #kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGINT"); // fast shutdown
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }

  async stop(): Promise<void> {
    await this.#kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startPostgres(): Promise<Postgres> {
  return new Postgres().start();
}

/** Mount Vault's database engine at `mount` against `pg`, with a role `role` (TTLs in seconds). */
export async function mountDatabase(bao: { must(m: string, p: string, b?: unknown): Promise<unknown>; enable(k: "mounts", p: string, t: string): Promise<void> }, pg: Postgres, mount: string, roles: Record<string, { ttl: number; maxTtl: number }>): Promise<void> {
  await bao.enable("mounts", mount, "database");
  await bao.must("POST", `${mount}/config/pg`, {
    plugin_name: "postgresql-database-plugin",
    connection_url: pg.vaultConnectionUrl,
    username: pg.user,
    password: pg.password,
    allowed_roles: Object.keys(roles).join(","),
    verify_connection: true,
  });
  for (const [name, r] of Object.entries(roles)) {
    await bao.must("POST", `${mount}/roles/${name}`, {
      db_name: "pg",
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
      default_ttl: r.ttl,
      max_ttl: r.maxTtl,
    });
  }
}
