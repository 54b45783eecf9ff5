/**
 * A template error must not carry a secret value. liquidjs names an undefined variable by the
 * path it looked up, and a key computed from a secret (`x[DB_PASSWORD | upcase]`) is part of
 * that path: the logger redacts the value as loaded, not its upper-cased form, so the error
 * line would show the secret, transformed, in the container's logs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const SECRET = "hunter2-value-q7";

describe("a template error names no secret value, even transformed", () => {
  const cases = [
    ["a property looked up by a key computed from a secret", "{% assign u = DB_PASSWORD | upcase %}{{ DB_USER[u] }}", /undefined variable DB_USER\[…\]/],
    ["a variable looked up by a name computed from a secret", "{% assign u = DB_PASSWORD | upcase %}{{ [u] }}", /undefined variable \(a name computed/],
    ["a literal path still named in full", "{{ DB_USER.first }}", /undefined variable DB_USER\.first/],
  ] as const;
  it.each(cases)("%s: exit 78, the value in no form on stderr", async (_name, tpl, shown) => {
    const d = tempDir("latchkey-tpl-err-");
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "db_password"), SECRET);
    writeFileSync(join(secrets, "db_user"), "app");
    const src = join(d, "t.liquid");
    writeFileSync(src, tpl);
    const r = await latchkey(["--secrets-dir", secrets, "--template", `${src}=${join(d, "out", "x")}`, "--", "true"], { env: { PATH } });
    expect(r.stderr.toLowerCase()).not.toContain(SECRET.toLowerCase());
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(shown);
  });
});
