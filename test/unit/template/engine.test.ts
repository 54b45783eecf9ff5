/**
 * The template engine's contract: strict (a missing variable or filter is an error naming the
 * template, line and variable, never a value), no file access, no code, bounded work.
 */
import { describe, expect, it } from "vitest";
import { compileTemplate } from "../../../src/template/engine.ts";

const SCOPE = { DB_USER: "unit-tpl-user-Qe55", DB_PASSWORD: "unit-tpl-pw-Xc81", API_KEY: "unit-tpl-key-Lm27" };

function fails(text: string, message: RegExp, scope: Record<string, string> = SCOPE): string {
  try {
    compileTemplate(text, "/t/app.yml.liquid").render(scope);
  } catch (e) {
    const err = e as { message: string; exitCode: number };
    expect(err.exitCode).toBe(78);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain("\n");
    for (const v of Object.values(SCOPE)) expect(err.message).not.toContain(v);
    return err.message;
  }
  return expect.unreachable(`should have failed: ${text}`);
}

describe("template engine", () => {
  it("renders variables by name, filters such as json quote for YAML", () => {
    const t = compileTemplate("user: {{ DB_USER }}\npassword: {{ DB_PASSWORD | json }}\n", "/t/a");
    expect(t.render(SCOPE).toString()).toBe(`user: unit-tpl-user-Qe55\npassword: "unit-tpl-pw-Xc81"\n`);
    expect([...t.reads].sort()).toEqual(["DB_PASSWORD", "DB_USER"]);
  });

  it("a value is data, never template text: a secret holding {{ ... }} is written as is", () => {
    const t = compileTemplate("{{ A }}", "/t/a");
    expect(t.render({ A: "{{ B }}{% include '/etc/passwd' %}", B: "x" }).toString()).toBe("{{ B }}{% include '/etc/passwd' %}");
  });

  it("a missing variable is an error naming the template, the line and the variable (not the value)", () => {
    expect(fails("a: {{ DB_USER }}\nb: {{ DB_PASSWRD }}\n", /^template \/t\/app.yml.liquid line 2: undefined variable DB_PASSWRD$/)).toBeTruthy();
    fails("{% if NOPE %}x{% endif %}", /line 1: undefined variable NOPE$/);
    fails("{{ DB_PASSWORD.size2 }}", /undefined variable DB_PASSWORD.size2/);
  });

  it("an unknown filter, an unknown tag, a syntax error: one line, CONFIG", () => {
    fails("{{ DB_USER | shell }}", /line 1: undefined filter shell$/);
    fails("x\n{% exec 'id' %}", /line 2: tag "exec" not found/);
    fails("{{ DB_USER", /line 1: output "\{\{ DB_USER" not closed/);
  });

  it("no file is read: include, render and layout fail at parse time", () => {
    for (const t of ["{% include '/etc/passwd' %}", "{% render 'x' %}", "{% layout '/etc/passwd' %}x", "{% include DB_USER %}"]) {
      fails(t, /is not allowed: a template cannot read other files/);
    }
  });

  it("no code: JavaScript properties and prototypes are not reachable", () => {
    fails("{{ DB_USER.constructor }}", /undefined variable DB_USER.constructor/);
    fails("{{ DB_USER.constructor.constructor }}", /undefined variable DB_USER.constructor/);
    fails("{{ __proto__ }}", /undefined variable __proto__/);
    fails("{{ constructor }}", /undefined variable constructor/);
    fails("{% assign f = DB_USER.constructor %}{{ f }}", /undefined variable DB_USER.constructor/);
  });

  it("bounded: a huge loop or a doubling string stops with an error instead of holding PID 1", () => {
    fails("{% for i in (1..100000000) %}{{ i }}{% endfor %}", /memory alloc limit exceeded|render limit exceeded/);
    fails("{% assign b = DB_USER %}{% for i in (1..40) %}{% assign b = b | append: b %}{% endfor %}{{ b }}", /memory alloc limit exceeded/);
  });
});
