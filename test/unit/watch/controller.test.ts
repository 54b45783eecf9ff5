import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, realpathSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RotationController, type Actuator } from "../../../src/watch/controller.ts";
import type { SecretSet } from "../../../src/watch/secret-set.ts";
import type { RotationOptions } from "../../../src/watch/options.ts";
import { Logger } from "../../../src/log/logger.ts";
import { Redactor } from "../../../src/log/redact.ts";
import { LatchkeyError } from "../../../src/errors.ts";
import { kubeWrite } from "../../helpers/kube-volume.ts";
import { rotationStatus } from "../../../src/watch/status.ts";

class FakeActuator implements Actuator {
  stopping = false;
  restarts: Record<string, string>[] = [];
  signals: string[] = [];
  env: Record<string, string> = {};
  restart = async (env: Record<string, string>) => {
    this.restarts.push(env);
    return true;
  };
  signal = (sig: string) => {
    this.signals.push(sig);
    return true;
  };
  setEnv = (env: Record<string, string>) => {
    this.env = env;
  };
}

/** A loader over one directory of files, with a validation rule, like the real pipeline. */
function dirLoader(dir: string, names: string[], opts: { failWith?: () => Error | null } = {}) {
  let loads = 0;
  const load = async (): Promise<SecretSet> => {
    loads++;
    const err = opts.failWith?.();
    if (err) throw err;
    const env: Record<string, string> = { PATH: "/bin" };
    for (const n of names) {
      const v = readFileSync(join(dir, n), "utf8");
      if (v === "") throw new LatchkeyError("no_input", 66, `${n}: empty`);
      env[n.toUpperCase()] = v;
    }
    const secrets = Object.fromEntries(names.map((n) => [n.toUpperCase(), env[n.toUpperCase()]!]));
    return { env, secrets, files: names.map((n) => join(dir, n)) };
  };
  return { load, loads: () => loads };
}

const logLines: string[] = [];
function testLogger(): Logger {
  const l = new Logger(2, new Redactor());
  l.level = "debug";
  l.write = (t: string) => void logLines.push(t);
  return l;
}

const OPTS: RotationOptions = { action: { kind: "restart" }, debounce: 50, debounceMax: 300, pollInterval: 0, restartSplay: 0, restartOnExit: false, explicit: [] };

let dir: string;
let ctl: RotationController | null = null;
afterEach(() => {
  ctl?.close();
  ctl = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  logLines.length = 0;
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("RotationController", () => {
  it("restarts once on a kubelet swap, with the new env", async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-ctl-")));
    kubeWrite(dir, { db_password: "old-value" });
    const { load } = dirLoader(dir, ["db_password"]);
    const act = new FakeActuator();
    ctl = new RotationController(await load(), { opts: OPTS, load, actuator: act, log: testLogger() });
    ctl.start();
    await sleep(50);
    kubeWrite(dir, { db_password: "new-value" });
    await until(() => act.restarts.length === 1);
    await sleep(300);
    expect(act.restarts).toHaveLength(1);
    expect(act.restarts[0]!.DB_PASSWORD).toBe("new-value");
    expect(logLines.join("")).not.toContain("new-value");
  });

  it("does nothing when events come but content is the same", async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-ctl-")));
    writeFileSync(join(dir, "k"), "same");
    const { load, loads } = dirLoader(dir, ["k"]);
    const act = new FakeActuator();
    ctl = new RotationController(await load(), { opts: OPTS, load, actuator: act, log: testLogger() });
    ctl.start();
    await sleep(50);
    writeFileSync(join(dir, "k"), "same");
    writeFileSync(join(dir, "editor.swp"), "junk");
    await until(() => loads() >= 2);
    await sleep(200);
    expect(act.restarts).toHaveLength(0);
  });

  it("a storm of 1,000 writes (≈1 s, ≤ 5 s on a loaded machine) becomes at most 2 actions, ending on the last value", async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-ctl-")));
    writeFileSync(join(dir, "k"), "v0");
    const { load } = dirLoader(dir, ["k"]);
    const act = new FakeActuator();
    ctl = new RotationController(await load(), { opts: { ...OPTS, debounce: 200, debounceMax: 5000 }, load, actuator: act, log: testLogger() });
    ctl.start();
    await sleep(50);
    for (let i = 1; i <= 1000; i++) {
      writeFileSync(join(dir, "k"), `v${i}`);
      if (i % 10 === 0) await sleep(10);
    }
    await until(() => act.restarts.at(-1)?.K === "v1000", 15_000);
    await sleep(500);
    expect(act.restarts.length).toBeGreaterThanOrEqual(1);
    expect(act.restarts.length).toBeLessThanOrEqual(2);
  });

  it("an invalid new set is rejected: no action, reason logged, later valid value acts", async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-ctl-")));
    writeFileSync(join(dir, "k"), "good-1");
    const { load } = dirLoader(dir, ["k"]);
    const act = new FakeActuator();
    ctl = new RotationController(await load(), { opts: OPTS, load, actuator: act, log: testLogger() });
    ctl.start();
    await sleep(50);
    writeFileSync(join(dir, "k"), "");
    await until(() => logLines.some((l) => l.includes("new secrets rejected")));
    expect(act.restarts).toHaveLength(0);
    expect(rotationStatus.lastError).toMatch(/k: empty/);
    writeFileSync(join(dir, "k"), "good-2");
    await until(() => act.restarts.length === 1);
    expect(act.restarts[0]!.K).toBe("good-2");
  });

  it("signal and none actions; per-variable rules win over the flag", async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-ctl-")));
    writeFileSync(join(dir, "a"), "a1");
    writeFileSync(join(dir, "b"), "b1");
    const { load } = dirLoader(dir, ["a", "b"]);
    const act = new FakeActuator();
    ctl = new RotationController(await load(), {
      opts: { ...OPTS, action: { kind: "signal", signal: "SIGHUP" } }, load, actuator: act, log: testLogger(),
      rules: { byName: { B: { kind: "none" } } },
    });
    ctl.start();
    await sleep(50);
    writeFileSync(join(dir, "a"), "a2");
    await until(() => act.signals.length === 1);
    expect(act.signals).toEqual(["SIGHUP"]);
    expect(act.env.A).toBe("a2");
    writeFileSync(join(dir, "b"), "b2");
    await until(() => rotationStatus.unapplied.includes("B"));
    expect(act.signals).toHaveLength(1);
    expect(act.restarts).toHaveLength(0);
  });

  it("per-source rules apply through the set's origins; restart beats a signal when both change", async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-ctl-")));
    writeFileSync(join(dir, "a"), "a1");
    writeFileSync(join(dir, "b"), "b1");
    const { load: base } = dirLoader(dir, ["a", "b"]);
    const load = async () => ({ ...(await base()), origins: { A: "file", B: "vault" } });
    const act = new FakeActuator();
    ctl = new RotationController(await load(), {
      opts: OPTS, load, actuator: act, log: testLogger(),
      rules: { bySource: { file: { kind: "signal", signal: "SIGUSR1" } } },
    });
    ctl.start();
    await sleep(50);
    writeFileSync(join(dir, "a"), "a2");
    await until(() => act.signals.length === 1);
    expect(act.signals).toEqual(["SIGUSR1"]);
    expect(act.restarts).toHaveLength(0);
    writeFileSync(join(dir, "a"), "a3");
    writeFileSync(join(dir, "b"), "b2");
    await until(() => act.restarts.length === 1);
    await sleep(300);
    expect(act.signals).toHaveLength(1);
  });

  it("polls each source at its own interval, with its own backoff", async () => {
    const calls = { aws: 0, vault: 0, gcp: 0 };
    const set: SecretSet = { env: { A: "1" }, secrets: { A: "1" }, files: [], remote: new Map([
      ["aws-sm", async () => { calls.aws++; throw new LatchkeyError("temp_fail", 75, "aws down"); }],
      ["vault", async () => { calls.vault++; return false; }],
      ["gcp", async () => { calls.gcp++; return false; }],
    ]) };
    const act = new FakeActuator();
    ctl = new RotationController(set, {
      opts: { ...OPTS, pollInterval: 5000 }, load: async () => set, actuator: act, log: testLogger(),
      rules: { pollBySource: { "aws-sm": 40, vault: 40, gcp: 0 } },
    });
    ctl.start();
    await sleep(1200);
    expect(calls.gcp).toBe(0);
    expect(calls.vault).toBeGreaterThanOrEqual(12); // ~40 ms apart, unaffected by aws-sm's outage
    expect(calls.aws).toBeGreaterThanOrEqual(3);
    expect(calls.aws).toBeLessThan(calls.vault / 2); // aws-sm backed off
    expect(logLines.some((l) => /source=aws-sm attempt=\d+ retryInMs=/.test(l))).toBe(true);
    expect(act.restarts).toHaveLength(0);
  });

  it("polling: provider failures back off without acting, recovery acts once", async () => {
    let down = true;
    let value = "v1";
    let loads = 0;
    const load = async (): Promise<SecretSet> => {
      loads++;
      if (down) throw new LatchkeyError("temp_fail", 75, "aws-sm://prod/db: 503 ServiceUnavailable");
      return { env: { DB: value }, secrets: { DB: value }, files: [], remote: new Map([["aws-sm", async () => { if (down) throw new Error("503"); return false; }]]) };
    };
    const act = new FakeActuator();
    const initial: SecretSet = { env: { DB: "v1" }, secrets: { DB: "v1" }, files: [], remote: new Map([["aws-sm", async () => {
      if (down) throw new LatchkeyError("temp_fail", 75, "503");
      return value !== "v1";
    }]]) };
    ctl = new RotationController(initial, { opts: { ...OPTS, pollInterval: 40 }, load, actuator: act, log: testLogger() });
    ctl.start();
    await sleep(1500);
    expect(act.restarts).toHaveLength(0);
    const retries = logLines.filter((l) => l.includes("retrying")).map((l) => Number(/retryInMs=(\d+)/.exec(l)![1]));
    expect(retries.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...retries)).toBeGreaterThan(100); // grew beyond the interval
    value = "v2";
    down = false;
    await until(() => act.restarts.length === 1, 3000);
    await sleep(300);
    expect(act.restarts).toHaveLength(1);
    expect(act.restarts[0]!.DB).toBe("v2");
    expect(loads).toBeGreaterThan(0);
  });
});
