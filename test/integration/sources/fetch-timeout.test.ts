import { describe, expect, it } from "vitest";
import { hangingServer } from "../../helpers/hanging-server.ts";
import { latchkey } from "../../helpers/run.ts";

// A Vault that accepts requests and never answers.
const vault = hangingServer();

const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH!, VAULT_ADDR: vault.url(), VAULT_TOKEN: "t0ken-fetch-timeout", API_KEY: "vault://secret/data/app#k", ...extra,
});

describe("--fetch-timeout", () => {
  it("bounds how long secret managers may take: exit 75 naming the reference, app never started", async () => {
    const r = await latchkey(["--fetch-timeout", "1500ms", "--", "sh", "-c", "echo APP-STARTED"], { env: env() });
    expect(r.code).toBe(75);
    expect(r.ms).toBeGreaterThan(1400);
    expect(r.ms).toBeLessThan(20_000); // far from the 60 s default
    expect(r.stderr).toContain("vault://secret/data/app#k");
    expect(r.stdout).not.toContain("APP-STARTED");
  });

  it("LATCHKEY_FETCH_TIMEOUT works the same; a bad value is a config error", async () => {
    const ok = await latchkey(["--", "true"], { env: env({ LATCHKEY_FETCH_TIMEOUT: "1s" }) });
    expect(ok.code).toBe(75);
    const bad = await latchkey(["--", "true"], { env: env({ LATCHKEY_FETCH_TIMEOUT: "soon" }) });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("LATCHKEY_FETCH_TIMEOUT");
    const zero = await latchkey(["--fetch-timeout", "0", "--", "true"], { env: env() });
    expect(zero.code).toBe(64);
  });
});
