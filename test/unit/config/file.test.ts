import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/file.ts";
import { registerSection, section, setSectionValues } from "../../../src/config/sections.ts";
import { Settings } from "../../../src/config/settings.ts";
import { expectObject, expectString } from "../../../src/config/validate.ts";
import { registerSecretFlags } from "../../../src/env/flags.ts";
import { secretsOptions } from "../../../src/env/options.ts";
import { registerSecretSections } from "../../../src/env/rules.ts";
import { registerBuiltinSchemes } from "../../../src/sources/schemes.ts";

registerSecretFlags();
registerSecretSections();
registerBuiltinSchemes();

function fails(text: string, message: RegExp, path = "latchkey.yaml"): void {
  try {
    parseConfigText(text, path);
    expect.unreachable("should have failed");
  } catch (e) {
    expect((e as Error).message).toMatch(message);
    expect((e as { exitCode: number }).exitCode).toBe(78);
  }
}

describe("config file", () => {
  it("maps flag keys (camelCase) and sections, YAML or JSON", () => {
    const y = parseConfigText("secretsDir: [/a, /b]\nkeepCase: true\nmaxSize: 1024\nmap: { db-password: PGPASSWORD }\nsources:\n  API: file:///run/k#key\n", "c.yaml");
    expect(y.values).toEqual({ secretsDir: ["/a", "/b"], keepCase: true, maxSize: "1024", map: ["db-password=PGPASSWORD"] });
    expect(y.sections.get("sources")).toEqual(new Map([["API", "file:///run/k#key"]]));
    const j = parseConfigText('{"require": ["A", "B"], "logLevel": "debug"}', "c.json");
    expect(j.values).toEqual({ require: ["A", "B"], logLevel: "debug" });
  });

  it("errors give the file, the field path, the bad value and what is allowed", () => {
    fails("secretsDri: /x\n", /latchkey.yaml: secretsDri: unknown key \(did you mean 'secretsDir'\?\); allowed: .*secretsDir/);
    fails("keepCase: maybe\n", /latchkey.yaml: keepCase: invalid value "maybe": expected true or false/);
    fails("prefix: [a, b]\n", /latchkey.yaml: prefix: invalid value \["a","b"\]: expected a single value \(PREFIX\), not a list/);
    fails("secrets:\n  db.json:\n    expand: xml\n", /latchkey.yaml: secrets.db.json.expand: invalid value "xml": expected one of: json, dotenv/);
    fails("secrets:\n  X:\n    minLength: -1\n", /secrets.X.minLength: invalid value -1: expected a whole number >= 0/);
    fails("secrets:\n  X:\n    pattern: '('\n", /secrets.X.pattern: invalid value "\(": expected a regular expression/);
    fails("secrets:\n  X:\n    prefix: DB_\n", /secrets.X.prefix: .*only allowed together with expand/);
    fails("secrets:\n  X:\n    requird: true\n", /secrets.X.requird: unknown key \(did you mean 'required'\?\)/);
    fails("sources:\n  API: vualt://x\n", /sources.API: unknown reference scheme 'vualt:\/\/'/);
    fails("sources:\n  1API: file:///x\n", /sources.1API: invalid value "1API": the key must be a variable name/);
    fails("sources:\n  API: just-a-string\n", /sources.API: invalid value "just-a-string": expected a reference/);
    fails("- a\n- b\n", /latchkey.yaml: \(top level\): invalid value \["a","b"\]: expected a mapping/);
    fails("a: [\n", /latchkey.yaml:\d+:\d+: bad YAML/);
    fails("a: 1\na: 2\n", /bad YAML/);
    fails("{ nope", /c.json: bad JSON/, "c.json");
    fails("config: other.yaml\n", /config: unknown key/);
  });

  it("a registered section is validated by its own validator and readable by its owner", () => {
    registerSection<{ url: string }>("unit-test-provider", {
      help: "test",
      validate: (v, at) => ({ url: expectString(expectObject(v, at).url, at.child("url")) }),
    });
    const f = parseConfigText("unit-test-provider:\n  url: http://x\n", "c.yaml");
    setSectionValues(f.sections);
    expect(section("unit-test-provider")).toEqual({ url: "http://x" });
    fails("unit-test-provider:\n  url: [1]\n", /unit-test-provider.url: invalid value \[1\]: expected a string/);
  });

  it("precedence: defaults ← file ← env ← flags, with the origin in errors", () => {
    const file = { path: "c.yaml", values: { trim: "space", prefix: "F_", maxSize: "lots" } };
    const s = new Settings({ flags: { prefix: "G_" }, env: { LATCHKEY_TRIM: "none" }, file });
    expect(s.string("trim")).toBe("none");
    expect(s.string("prefix")).toBe("G_");
    expect(s.string("on-conflict")).toBe("error");
    expect(() => secretsOptions(s)).toThrow(/c.yaml: maxSize: invalid value 'lots': expected a size/);
    expect(() => secretsOptions(new Settings({ flags: { "max-size": "x" }, env: {} }))).toThrow(/--max-size: invalid value 'x'/);
    expect(() => secretsOptions(new Settings({ flags: {}, env: { LATCHKEY_ON_CONFLICT: "yolo" } }))).toThrow(/LATCHKEY_ON_CONFLICT: invalid value 'yolo': expected one of: error, precedence/);
  });

  it("only the default secrets dir is optional", () => {
    expect(secretsOptions(new Settings({ flags: {}, env: {} })).dirs).toEqual([{ path: "/run/secrets", optional: true }]);
    expect(secretsOptions(new Settings({ flags: { "secrets-dir": ["/run/secrets", "./s"] }, env: {} })).dirs)
      .toEqual([{ path: "/run/secrets", optional: false }, { path: "./s", optional: false }]);
  });
});
