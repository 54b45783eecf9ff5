/**
 * Makes the code caches (src/sea-assets.ts): runs latchkey's common paths one after another
 * through src/sea-main.ts, each run loading the caches the previous ones wrote and writing
 * back the ones it used, with what it compiled itself (see src/sea-main.ts for why). Only local things are touched: a
 * temporary directory and a throw-away HTTP server on 127.0.0.1.
 *
 * A path left out here still works; it is only compiled at run time, as before.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HEALTH, MAIN, PLAIN_CACHE, SIDE } from "../src/sea-assets.ts";

/**
 * V8 flags for the training runs only: without them two builds of one commit give different
 * caches (concurrent compilation and GC timing decide what is compiled when, and a random seed
 * orders what is serialized). V8 leaves exactly these two out of the flag hash a code cache is
 * checked against ("to allow predictable code caching"), so the shipped executable, started
 * without them, still accepts the caches (the build's smoke test checks it).
 */
export const DETERMINISTIC = ["--predictable", "--random-seed=1"];

/** A Node runtime to train with: the target's own (a code cache is V8's for one architecture). */
export interface Runtime {
  /** The runtime to run (for another architecture: a copy that loads the unpacked libraries). */
  path: string;
  /** Added to its environment. */
  env: Record<string, string>;
  /** The runtime the executable is made from (default: `path`). */
  base?: string;
  /** For another architecture: a copy of `file` that runs here (loader and libraries patched in). */
  runnable?: (file: string) => string;
}

/** Trains the caches src/sea-main.ts loads, beside `loader` (with the bundles); returns their paths. */
export async function trainCodeCaches(loader: string, runtimeFlags: string[], runtime: Runtime = { path: process.execPath, env: {} }): Promise<string[]> {
  // Every side bundle is used by some run below (yaml: the config file; liquidjs: the template), so each gets a cache.
  // `-- COMMAND` and `--exec -- COMMAND` below train MAIN's plain cache (src/sea-assets.ts, cacheFor).
  const caches = [...[MAIN, HEALTH, ...Object.values(SIDE)].map((b) => b.cache), PLAIN_CACHE].map((c) => join(dirname(loader), c));
  for (const c of caches) rmSync(c, { force: true });
  const dir = mkdtempSync(join(tmpdir(), "latchkey-train-"));
  const server = await listen();
  try {
    const port = (server.address() as { port: number }).port;
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db-password"), "training-only-value\n");
    writeFileSync(join(secrets, "app.json"), JSON.stringify({ user: "u", token: "training-only-token" }));
    writeFileSync(join(dir, "pg"), "training-only-pg\n");
    writeFileSync(join(dir, "dev.env"), "EXTRA=1\n");
    const config = join(dir, "latchkey.yaml");
    writeFileSync(config, "logLevel: warn\ngrace: 2s\nrequire: [DB_PASSWORD]\nexpand: [app.json=json]\n");
    const template = join(dir, "app.yml.liquid");
    writeFileSync(template, "db:\n  password: {{ DB_PASSWORD | json }}\n{% if EXTRA %}  extra: {{ EXTRA }}{% endif %}\n");
    const truePath = ["/bin/true", "/usr/bin/true"].find((p) => existsSync(p)) ?? "true";
    const url = `http://127.0.0.1:${port}/health`;
    const runs: { args: string[]; env?: Record<string, string> }[] = [
      // The default: supervise mode, file secrets, a config file, VAR_FILE, dotenv, a wait.
      {
        args: ["--config", config, "--secrets-dir", secrets, "--dotenv", join(dir, "dev.env"), "--wait", `tcp://127.0.0.1:${port}`, "--", truePath],
        env: { PG_PASSWORD_FILE: join(dir, "pg"), DB_URL: `file://${join(dir, "pg")}` },
      },
      // MAIN's plain cache (src/sea-assets.ts): with a NAME_FILE outside the secrets dirs, as
      // most environments have (SSL_CERT_FILE), left alone under --file-vars auto.
      { args: ["--", truePath], env: { TRAIN_CERT_FILE: join(dir, "pg") } },
      // A template (liquidjs), rendered into a file set.
      { args: ["--secrets-dir", secrets, "--dotenv", join(dir, "dev.env"), "--template", `${template}=${join(dir, "out", "app.yml")}`, "--", truePath] },
      { args: ["--exec", "--", truePath] },
      { args: ["--exec", "--secrets-dir", secrets, "--", truePath] },
      { args: ["check", "--secrets-dir", secrets] },
      { args: ["check", "--format", "json", "--secrets-dir", secrets] },
      { args: ["health", url] },
      { args: ["health", `tcp://127.0.0.1:${port}`] },
      { args: ["version"] },
      { args: ["help"] },
    ];
    // An aws-sm:// reference fetched from the server below, when the SDK asset is beside the
    // loader (src/sources/aws-sm/sdk.ts writes its own cache, aws-sdk.codecache).
    if (existsSync(join(dirname(loader), "aws-sdk.cjs"))) {
      runs.push({
        args: ["--", truePath],
        env: {
          TRAIN_AWS: "aws-sm://train/db#password", AWS_ACCESS_KEY_ID: "training", AWS_SECRET_ACCESS_KEY: "training",
          AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
          AWS_CONFIG_FILE: join(dir, "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
        },
      });
    }
    for (const r of runs) {
      // Not spawnSync: the HTTP server above answers from this process's event loop.
      const res = await runOnce(runtime.path, [...runtimeFlags, ...DETERMINISTIC, loader, ...r.args], {
        PATH: process.env.PATH ?? "/usr/bin:/bin", ...runtime.env, ...r.env, LATCHKEY_CODE_CACHE_TRAIN: "1",
      });
      if (res.status !== 0) {
        throw new Error(`training run 'latchkey ${r.args.join(" ")}' failed (status ${res.status}, signal ${res.signal}): ${res.stderr.trim().split("\n")[0] ?? ""}`);
      }
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const missing = caches.filter((c) => !existsSync(c));
  if (missing.length) throw new Error(`training made no ${missing.join(", ")}`);
  return caches;
}

function runOnce(file: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(file, args, { env, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
    let stderr = "";
    p.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (status, signal) => resolve({ status, signal, stderr }));
  });
}

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((req, res) => {
      // Secrets Manager's JSON protocol, for the aws-sm:// training run: one secret, batch read.
      if (String(req.headers["x-amz-target"] ?? "").endsWith(".BatchGetSecretValue")) {
        req.resume();
        res.setHeader("content-type", "application/x-amz-json-1.1");
        res.end(JSON.stringify({ SecretValues: [{ Name: "train/db", ARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:train/db-AbCdEf", VersionId: "training-v1", SecretString: '{"password":"training-only-value"}' }], Errors: [] }));
        return;
      }
      res.end('{"status":"UP"}');
    });
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}
