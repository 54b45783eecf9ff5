import { describe, expect, it } from "vitest";
import { formatAction, loadRotationOptions, parseAction } from "../../../src/watch/options.ts";
import { registerRotationFlags } from "../../../src/watch/flags.ts";
import { registerRotationSection } from "../../../src/watch/config.ts";
import { parseConfigText } from "../../../src/config/file.ts";
import { Settings } from "../../../src/config/settings.ts";

registerRotationFlags();
registerRotationSection();

describe("rotation options", () => {
  it("parses actions", () => {
    expect(parseAction("restart")).toEqual({ kind: "restart" });
    expect(parseAction("NONE")).toEqual({ kind: "none" });
    expect(parseAction("signal:HUP")).toEqual({ kind: "signal", signal: "SIGHUP" });
    expect(parseAction("signal:sigusr1")).toEqual({ kind: "signal", signal: "SIGUSR1" });
    expect(parseAction("signal:10")).toEqual({ kind: "signal", signal: "SIGUSR1" });
    for (const bad of ["reload", "signal:", "signal:KILL", "signal:STOP", "signal:NOPE", "restart:now"]) expect(parseAction(bad)).toBeNull();
    expect(formatAction({ kind: "signal", signal: "SIGHUP" })).toBe("signal:SIGHUP");
  });

  it("has documented defaults", () => {
    const o = loadRotationOptions(new Settings({ flags: {}, env: {} }));
    expect(o).toEqual({ action: { kind: "restart" }, debounce: 1000, debounceMax: 10_000, pollInterval: 60_000, restartSplay: 0, restartOnExit: false, explicit: [] });
    expect(loadRotationOptions(new Settings({ flags: { debounce: "2s" }, env: { LATCHKEY_ON_CHANGE: "none" } })).explicit).toEqual(["LATCHKEY_ON_CHANGE", "--debounce"]);
  });

  it("names the setting at fault, with the right exit code", () => {
    const bad = (flags: Record<string, string>, env: Record<string, string> = {}) => {
      try {
        loadRotationOptions(new Settings({ flags, env }));
      } catch (e) {
        return e as { message: string; exitCode: number };
      }
      throw new Error("expected a failure");
    };
    expect(bad({ "on-change": "reload" })).toMatchObject({ exitCode: 64, message: expect.stringMatching(/--on-change: invalid value 'reload': expected restart, none, or signal:NAME/) });
    expect(bad({}, { LATCHKEY_ON_CHANGE: "signal:KILL" })).toMatchObject({ exitCode: 78, message: expect.stringMatching(/LATCHKEY_ON_CHANGE/) });
    expect(bad({ debounce: "5s", "debounce-max": "1s" }).message).toMatch(/--debounce-max: invalid value '1s': must be at least --debounce/);
    expect(bad({ render: "relative/dir" }).message).toMatch(/--render: .*absolute/);
    expect(bad({ "poll-interval": "soon" }).message).toMatch(/--poll-interval: invalid value 'soon'/);
  });

  it("reads per-variable and per-source actions from the config file", () => {
    const f = parseConfigText("onChange: none\nrotation:\n  actions:\n    TLS_CERT: signal:HUP\n  sources:\n    vault: restart\n", "l.yaml");
    expect(f.values.onChange).toBe("none");
    expect(f.sections.get("rotation")).toEqual({ byName: { TLS_CERT: { kind: "signal", signal: "SIGHUP" } }, bySource: { vault: { kind: "restart" } } });
    expect(parseConfigText("rotation:\n  poll:\n    aws-sm: 5m\n    vault: 0\n", "l.yaml").sections.get("rotation")).toEqual({ pollBySource: { "aws-sm": 300_000, vault: 0 } });
    expect(() => parseConfigText("rotation:\n  poll:\n    vault: often\n", "l.yaml")).toThrow(/rotation\.poll\.vault: invalid value "often"/);
    expect(() => parseConfigText("rotation:\n  actions:\n    A: bounce\n", "l.yaml")).toThrow(/l\.yaml: rotation\.actions\.A: invalid value "bounce"/);
    expect(() => parseConfigText("rotation:\n  action: {}\n", "l.yaml")).toThrow(/rotation/);
  });
});
