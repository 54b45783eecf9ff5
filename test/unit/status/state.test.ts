import { describe, expect, it } from "vitest";
import { StatusState } from "../../../src/status/state.ts";
import { recordSecretLoad, recordInitialLoad } from "../../../src/status/freshness.ts";

describe("StatusState", () => {
  it("follows the lifecycle: starting → running → exited → running again (a restart)", () => {
    const s = new StatusState();
    expect(s.snapshot()).toMatchObject({ phase: "starting", gate: { state: "running" }, app: { pid: null, restarts: 0 } });
    s.gateDone([{ stage: "wait", ok: true, ms: 12.4, items: [{ name: "tcp://db:5432", state: "passed", reason: "ok", cause: "connected", detail: "connected", ms: 12.4, attempts: 1 }] }], 12.6, true);
    expect(s.snapshot().gate).toEqual({ state: "passed", ms: 13, checks: [{ stage: "wait", name: "tcp://db:5432", state: "passed", reason: "ok", cause: "connected", detail: "connected", ms: 12, attempts: 1 }] });
    s.onEvent({ type: "started", pid: 10 });
    expect(s.snapshot()).toMatchObject({ phase: "running", app: { pid: 10, running: true, restarts: 0 } });
    expect(s.started).toBe(true);
    s.onEvent({ type: "exited", pid: 10, status: { code: null, signal: "SIGKILL", exitCode: 137 } });
    expect(s.snapshot()).toMatchObject({ phase: "exited", app: { running: false, lastExit: { code: null, signal: "SIGKILL", exitCode: 137 } } });
    s.onEvent({ type: "started", pid: 11 });
    expect(s.snapshot()).toMatchObject({ phase: "running", app: { pid: 11, running: true, restarts: 1 } });
  });

  it("a failed gate is a phase of its own", () => {
    const s = new StatusState();
    s.gateDone([], 5, false);
    expect(s.snapshot()).toMatchObject({ phase: "gate failed", gate: { state: "failed" } });
  });

  it("secret freshness: per source, times and last error, never values", () => {
    recordInitialLoad([
      { kind: "dir", source: "/run/secrets/db_password" },
      { kind: "reference", source: "API_KEY=vault://secret/data/app#key" },
    ]);
    recordSecretLoad("vault", false, "vault://secret/data/app: permission denied (403)\nstack...");
    const secrets = new StatusState().snapshot().secrets;
    const vault = secrets.find((x) => x.source === "vault")!;
    expect(secrets.map((x) => x.source).sort()).toEqual(["file", "vault"]);
    expect(vault).toMatchObject({ loads: 1, errors: 1, lastError: "vault://secret/data/app: permission denied (403)" });
    expect(vault.lastSuccessAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
