/**
 * How the rotation controller decides for templates: a template whose output changed is
 * rewritten and brings its own action; a variable a template reads takes no action of its own
 * (unless rotation.actions names it); other variables keep theirs; a set that breaks a
 * template is rejected before anything is applied.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RotationController, type Actuator } from "../../../src/watch/controller.ts";
import type { SecretSet } from "../../../src/watch/secret-set.ts";
import type { Action, RotationOptions } from "../../../src/watch/options.ts";
import { Logger } from "../../../src/log/logger.ts";
import { Redactor } from "../../../src/log/redact.ts";
import { TemplateOutputs } from "../../../src/template/outputs.ts";
import { templateScope } from "../../../src/template/index.ts";
import type { TemplateSpec } from "../../../src/template/config.ts";

class FakeActuator implements Actuator {
  stopping = false;
  restarts = 0;
  signals: string[] = [];
  restart = async () => {
    this.restarts++;
    return true;
  };
  signal = (sig: string) => {
    this.signals.push(sig);
    return true;
  };
  setEnv = () => {};
}

const OPTS: RotationOptions = { action: { kind: "restart" }, debounce: 20, debounceMax: 100, pollInterval: 0, restartSplay: 0, restartOnExit: false, explicit: [] };
const logLines: string[] = [];
function testLogger(): Logger {
  const l = new Logger(2, new Redactor());
  l.level = "debug";
  l.write = (t: string) => void logLines.push(t);
  return l;
}

let dir: string;
let ctl: RotationController | null = null;
afterEach(() => {
  ctl?.close();
  ctl = null;
  rmSync(dir, { recursive: true, force: true });
  logLines.length = 0;
});

/** Variables as a set; the controller is driven by lookNow() with whatever `current` holds. */
function setup(templates: { text: string; name: string; action?: Action }[], rules?: { byName?: Record<string, Action> }) {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "lk-tpl-")));
  let current: Record<string, string> = { A: "a1", B: "b1", C: "c1" };
  const setOf = (): SecretSet => ({ env: { PATH: "/bin", ...current }, secrets: { ...current }, files: [] });
  const specs: TemplateSpec[] = templates.map((t, i) => {
    const source = join(dir, `t${i}.liquid`);
    writeFileSync(source, t.text);
    return { source, destination: join(dir, "out", t.name), origin: `t${i}`, ...(t.action ? { action: t.action } : {}) };
  });
  const outputs = new TemplateOutputs(specs, { defaultAction: OPTS.action, resolveOwner: () => ({ uid: 0, gid: 0 }) });
  outputs.render(templateScope(setOf())).commit();
  const act = new FakeActuator();
  ctl = new RotationController(setOf(), { opts: OPTS, load: async () => setOf(), actuator: act, log: testLogger(), templates: outputs, ...(rules ? { rules } : {}) });
  const read = (name: string) => readFileSync(join(dir, "out", name), "utf8");
  return { act, read, change: (v: Record<string, string | null>) => {
    current = { ...current, ...v } as Record<string, string>;
    for (const [k, x] of Object.entries(v)) if (x === null) delete current[k];
  }, look: () => ctl!.lookNow() };
}

describe("templates in rotation", () => {
  it("a variable read by a signal:HUP template is re-rendered and signalled, not restarted (--on-change restart)", async () => {
    const t = setup([{ text: "a={{ A }}", name: "a.conf", action: { kind: "signal", signal: "SIGHUP" } }]);
    t.change({ A: "a2" });
    await t.look();
    expect(t.act.signals).toEqual(["SIGHUP"]);
    expect(t.act.restarts).toBe(0);
    expect(t.read("a.conf")).toBe("a=a2");
  });

  it("a variable no template reads keeps --on-change (restart), and templates are rewritten before it", async () => {
    const t = setup([{ text: "a={{ A }}", name: "a.conf", action: { kind: "signal", signal: "SIGHUP" } }]);
    t.change({ B: "b2" });
    await t.look();
    expect(t.act.restarts).toBe(1);
    expect(t.act.signals).toEqual([]);
  });

  it("rotation.actions for a variable beats the template's action", async () => {
    const t = setup([{ text: "a={{ A }}", name: "a.conf", action: { kind: "signal", signal: "SIGHUP" } }], { byName: { A: { kind: "restart" } } });
    t.change({ A: "a2" });
    await t.look();
    expect(t.act.restarts).toBe(1);
    expect(t.read("a.conf")).toBe("a=a2");
  });

  it("two templates with different signals: each signal once; a template whose output did not change does nothing", async () => {
    const t = setup([
      { text: "a={{ A }}", name: "a.conf", action: { kind: "signal", signal: "SIGHUP" } },
      { text: "c={{ C }}{% if A %}{% endif %}", name: "c.conf", action: { kind: "signal", signal: "SIGUSR2" } },
      { text: "b={{ B }}", name: "b.conf", action: { kind: "restart" } },
    ]);
    t.change({ A: "a2", C: "c2" });
    await t.look();
    expect(t.act.signals).toEqual(["SIGHUP", "SIGUSR2"]);
    expect(t.act.restarts).toBe(0); // b.conf's output is the same: its restart is not run
    t.change({ A: "a3" });
    await t.look();
    expect(t.act.signals).toEqual(["SIGHUP", "SIGUSR2", "SIGHUP"]); // c.conf reads A but its output did not change
  });

  it("action none: the file is rewritten and nothing is sent", async () => {
    const t = setup([{ text: "a={{ A }}", name: "a.conf", action: { kind: "none" } }]);
    t.change({ A: "a2" });
    await t.look();
    expect(t.act.signals).toEqual([]);
    expect(t.act.restarts).toBe(0);
    expect(t.read("a.conf")).toBe("a=a2");
  });

  it("a set that breaks a template (a variable gone) is rejected: the old file stays, no action, the reason names the variable", async () => {
    const t = setup([{ text: "a={{ A }} b={{ B }}", name: "a.conf", action: { kind: "signal", signal: "SIGHUP" } }]);
    t.change({ A: "a2", B: null });
    await t.look();
    expect(t.act.signals).toEqual([]);
    expect(t.act.restarts).toBe(0);
    expect(t.read("a.conf")).toBe("a=a1 b=b1");
    expect(logLines.join("")).toMatch(/new secrets rejected by a template.*undefined variable B/);
    expect(logLines.join("")).not.toContain("a2");
  });
});
