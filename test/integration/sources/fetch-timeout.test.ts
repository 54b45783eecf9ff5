import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";

// A Vault that accepts requests and never answers.
let server: Server;
let addr: string;
beforeAll(async () => {
  server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH!, VAULT_ADDR: addr, VAULT_TOKEN: "t0ken-fetch-timeout", API_KEY: "vault://secret/data/app#k", ...extra,
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
