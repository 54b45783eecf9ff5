/**
 * One directory holds one `..data` set, so two writers in one directory remove each other's
 * files: latchkey refuses a template whose destination is in the --render directory, and
 * groups templates by directory. A directory spelt with a doubled slash is the same directory.
 * Before: `--render DIR --template SRC=DIR//b` passed the check, and the template's set
 * replaced the render's: the app started without its --render files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";

function fixture() {
  const d = tempDir("latchkey-tpl-same-dir-");
  const secrets = join(d, "secrets");
  mkdirSync(secrets);
  writeFileSync(join(secrets, "db_user"), "u1");
  writeFileSync(join(d, "a.liquid"), "a={{ DB_USER }}\n");
  writeFileSync(join(d, "b.liquid"), "b={{ DB_USER }}\n");
  return { d, secrets, out: join(d, "out") };
}

describe("a directory spelt with a doubled slash is one directory", () => {
  it("--render DIR and a template into DIR//NAME: refused (78), as for DIR/NAME", async () => {
    const f = fixture();
    const r = await latchkey(["--secrets-dir", f.secrets, "--render", f.out, "--template", `${join(f.d, "b.liquid")}=${f.out}//b`, "--", "true"], { env: { PATH } });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/is in the --render directory/);
  });

  it("templates into DIR/a and DIR//b: one set holding both files", async () => {
    const f = fixture();
    const r = await latchkey(["--secrets-dir", f.secrets, "--template", `${join(f.d, "a.liquid")}=${f.out}/a`, "--template", `${join(f.d, "b.liquid")}=${f.out}//b`, "--", "true"], { env: { PATH } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(f.out, "a")) ? readFileSync(join(f.out, "a"), "utf8") : "(missing)").toBe("a=u1\n");
    expect(readFileSync(join(f.out, "b"), "utf8")).toBe("b=u1\n");
  });
});
