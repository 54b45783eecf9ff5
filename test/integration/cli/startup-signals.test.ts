import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hangingServer } from "../../helpers/hanging-server.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { start } from "../../helpers/run.ts";

// A Vault address that accepts requests and never answers: latchkey stays in "load secrets",
// before the gate and before any app, for as long as the test wants.
const vault = hangingServer();

const env = () => ({ PATH: process.env.PATH!, VAULT_ADDR: vault.url(), VAULT_TOKEN: "t0ken-for-startup-test", API_KEY: "vault://secret/data/app#k" });

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitFor<T>(f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("stop signals while secrets load (before the gate)", () => {
  it("as PID 1, SIGTERM ends startup at once with 143 and the app never starts", async () => {
    const { proc, done } = start("unshare", ["--pid", "--fork", "--mount-proc", LATCHKEY, "--", "sh", "-c", "echo APP-STARTED"], { env: env() });
    const inner = await waitFor(() => childPids(proc.pid!)[0]);
    await new Promise((r) => setTimeout(r, 500)); // well into the hanging Vault request
    const t0 = performance.now();
    process.kill(inner, "SIGTERM");
    const r = await done;
    expect(r.code).toBe(143);
    expect(performance.now() - t0).toBeLessThan(3000); // not the startup deadline, not a SIGKILL
    expect(r.stdout).not.toContain("APP-STARTED");
    expect(r.stderr).toContain("SIGTERM during startup");
  });

  it("not PID 1, SIGINT gives 130 the same way", async () => {
    const { proc, done } = start(LATCHKEY, ["--", "sh", "-c", "echo APP-STARTED"], { env: env() });
    await new Promise((r) => setTimeout(r, 700));
    process.kill(proc.pid!, "SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).not.toContain("APP-STARTED");
  });
});
