/**
 * moto's server (a real implementation of the Secrets Manager wire protocol) on 127.0.0.1 and
 * a free port, started and stopped per test file. scripts/setup-system installs the
 * pinned moto when it is missing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../ports.ts";

export interface Moto {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** Reset all state (moto's own management API). */
  reset(): Promise<void>;
}

/** Start moto_server; `env` adds variables (e.g. INITIAL_NO_AUTH_ACTION_COUNT to enforce IAM). */
export async function startMoto(env: Record<string, string> = {}): Promise<Moto> {
  let lastErr = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env },
    });
    let stderr = "";
    proc.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((r) => proc.once("exit", () => r()));
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && proc.exitCode === null) {
      try {
        const r = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
        if (r.ok || r.status < 500) {
          return { url, port, proc, stop, reset: async () => void (await fetch(`${url}/moto-api/reset`, { method: "POST" })) };
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastErr = stderr;
    await stop();
  }
  throw new Error(`moto_server did not start (is it installed? scripts/setup-system test): ${lastErr}`);
}

/** Environment for pointing the AWS SDK (ours or latchkey's) at moto with dummy credentials. */
export function motoEnv(m: Moto, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: m.url,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    ...extra,
  };
}
