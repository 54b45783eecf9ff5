/**
 * Configuring templates: `--template SRC=DEST` (and LATCHKEY_TEMPLATE), the config file's
 * `templates:` list, and every bad value as one line naming the field, with its exit code.
 */
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/file.ts";
import { setSectionValues } from "../../../src/config/sections.ts";
import { Settings } from "../../../src/config/settings.ts";
import { registerSecretFlags } from "../../../src/env/flags.ts";
import { registerRotationFlags } from "../../../src/watch/flags.ts";
import { parseMode, registerTemplates, templateOnly, templateSpecs } from "../../../src/template/config.ts";

registerSecretFlags();
registerRotationFlags();
registerTemplates();

function specs(o: { flags?: string[]; env?: string; file?: string }) {
  const file = o.file !== undefined ? parseConfigText(o.file, "latchkey.yaml") : undefined;
  setSectionValues(file?.sections ?? new Map());
  const s = new Settings({
    flags: o.flags ? { template: o.flags } : {},
    env: o.env !== undefined ? { LATCHKEY_TEMPLATE: o.env } : {},
    ...(file ? { file: { path: "latchkey.yaml", values: file.values } } : {}),
  });
  return templateSpecs(s);
}

function fails(f: () => unknown, message: RegExp, exit: number): void {
  try {
    f();
  } catch (e) {
    expect((e as Error).message).toMatch(message);
    expect((e as { exitCode: number }).exitCode).toBe(exit);
    return;
  }
  expect.unreachable("should have failed");
}

describe("template configuration", () => {
  it("--template SRC=DEST, repeatable; LATCHKEY_TEMPLATE comma-separated", () => {
    expect(specs({ flags: ["/t/a.liquid=/app/a.yml", "/t/b=/home/app/.pgpass"] })).toEqual([
      { source: "/t/a.liquid", destination: "/app/a.yml", origin: "--template" },
      { source: "/t/b", destination: "/home/app/.pgpass", origin: "--template" },
    ]);
    expect(specs({ env: "/t/a=/x/a, /t/b=/x/b" }).map((t) => t.destination)).toEqual(["/x/a", "/x/b"]);
  });

  it("the config file's templates: owner, mode and action per template", () => {
    const t = specs({ file: [
      "templates:",
      "  - source: /t/nginx.liquid",
      "    destination: /etc/nginx/conf.d/site.conf",
      "    action: signal:HUP",
      "    mode: \"0440\"",
      "    owner: root:nginx",
      "  - { source: /t/pg, destination: /home/app/.pgpass, mode: 0600, action: none }",
    ].join("\n") });
    expect(t[0]).toEqual({ source: "/t/nginx.liquid", destination: "/etc/nginx/conf.d/site.conf", action: { kind: "signal", signal: "SIGHUP" }, mode: 0o440, owner: "root:nginx", origin: "latchkey.yaml: templates[0]" });
    expect(t[1]).toMatchObject({ mode: 0o600, action: { kind: "none" } });
  });

  it("bad flag values: usage (64) from the command line, config (78) from the env", () => {
    fails(() => specs({ flags: ["/t/a"] }), /^--template: invalid value '\/t\/a': expected SRC=DEST/, 64);
    fails(() => specs({ flags: ["t/a=/x/a"] }), /SRC must be an absolute path/, 64);
    fails(() => specs({ flags: ["/t/a=x/a"] }), /DEST: expected an absolute path/, 64);
    fails(() => specs({ flags: ["/t/a=/x/"] }), /DEST: expected a file path, not a directory/, 64);
    fails(() => specs({ flags: ["/t/a=/x/..data"] }), /DEST: the file name must be/, 64);
    fails(() => specs({ flags: ["/t/a=/x/../etc/a"] }), /DEST: expected a path without \. or \.\. components/, 64);
    fails(() => specs({ env: "/t/a" }), /^LATCHKEY_TEMPLATE: invalid value/, 78);
  });

  it("bad config entries name the field path", () => {
    const f = (yaml: string, m: RegExp) => fails(() => specs({ file: yaml }), m, 78);
    f("templates: /t/a\n", /templates: invalid value "\/t\/a": expected a list of templates/);
    f("templates:\n  - { destination: /x/a }\n", /templates\[0\].source: invalid value \(missing\)/);
    f("templates:\n  - { source: /t/a }\n", /templates\[0\].destination: invalid value \(missing\)/);
    f("templates:\n  - { source: /t/a, destination: /x/a, mdoe: 0400 }\n", /templates\[0\].mdoe: unknown key \(did you mean 'mode'\?\)/);
    f("templates:\n  - { source: /t/a, destination: /x/a, mode: \"0666\" }\n", /templates\[0\].mode: invalid value "0666": expected octal permission bits without group or other write/);
    f("templates:\n  - { source: /t/a, destination: /x/a, action: reload }\n", /templates\[0\].action: invalid value "reload": expected restart, none, or signal:NAME/);
    f("templates:\n  - { source: /t/a, destination: /x/a, action: signal:KILL }\n", /templates\[0\].action: invalid value "signal:KILL"/);
    f("templates:\n  - { source: /t/a, destination: /x/a, owner: 'a b' }\n", /templates\[0\].owner: invalid value "a b": expected USER, UID, USER:GROUP or UID:GID/);
  });

  it("one destination, one template", () => {
    fails(() => specs({ flags: ["/t/a=/x/a"], file: "templates:\n  - { source: /t/b, destination: /x/a }\n" }),
      /^latchkey.yaml: templates\[0\]: destination \/x\/a is also the destination of --template: one file, one template$/, 78);
  });

  it("modes: octal strings, YAML numbers read as octal digits; no group/other write, no special bits", () => {
    expect(parseMode("0400")).toBe(0o400);
    expect(parseMode("0o640")).toBe(0o640);
    expect(parseMode(440)).toBe(0o440);
    expect(parseMode("600")).toBe(0o600);
    for (const bad of ["0666", "0620", "4755", "0800", "rw", 288, -1, "", true]) expect(parseMode(bad)).toBeNull();
  });

  it("--template-only takes variable names", () => {
    expect(templateOnly(new Settings({ flags: { "template-only": ["TLS_KEY", "DB_PASSWORD"] }, env: {} }))).toEqual(["TLS_KEY", "DB_PASSWORD"]);
    fails(() => templateOnly(new Settings({ flags: { "template-only": ["tls-key"] }, env: {} })), /^--template-only: invalid value 'tls-key': expected a variable name/, 64);
  });
});
