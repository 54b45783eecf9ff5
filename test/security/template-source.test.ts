/**
 * The template's *source* in a directory the app user can write (an image that ships its
 * templates with `COPY --chown=app`): the compromised app replaces the source with a symlink
 * to a root-only file, or a directory on its path with a symlink to a root-only directory.
 * latchkey (root) must not read through it: the rendered destination is the app's, so reading
 * the root file as a template would hand its bytes (/etc/shadow, a Vault token file) to the app.
 */
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";
import { kubeWrite } from "../helpers/kube-volume.ts";

const APP = 65534;
const PATH = process.env.PATH ?? "/usr/bin:/bin";
const ROOT_ONLY = "root-only-content-4f1c9a\n";

function fixture() {
  const d = tempDir("latchkey-tpl-source-");
  const secrets = join(d, "secrets");
  mkdirSync(secrets);
  kubeWrite(secrets, { db_user: "u" });
  // root's: a file and a directory the app user cannot read
  const rootDir = join(d, "rootdir");
  mkdirSync(rootDir, { mode: 0o700 });
  writeFileSync(join(rootDir, "app.conf.liquid"), ROOT_ONLY, { mode: 0o600 });
  // the app's: where the image put its templates, and the destination directory
  const app = join(d, "app");
  mkdirSync(app);
  chownSync(app, APP, APP);
  const conf = join(d, "conf");
  mkdirSync(conf);
  chownSync(conf, APP, APP);
  return { d, secrets, rootDir, app, dest: join(conf, "app.conf") };
}

describe("a template source the app user can replace", () => {
  const cases = [
    ["the source file replaced by a symlink to a root-only file", (f: ReturnType<typeof fixture>) => {
      const src = join(f.app, "app.conf.liquid");
      symlinkSync(join(f.rootDir, "app.conf.liquid"), src);
      lchownSync(src, APP, APP);
      return src;
    }],
    ["a directory on the source's path replaced by a symlink to a root-only directory", (f: ReturnType<typeof fixture>) => {
      const link = join(f.app, "templates");
      symlinkSync(f.rootDir, link);
      lchownSync(link, APP, APP);
      return join(link, "app.conf.liquid");
    }],
  ] as const;
  it.each(cases)("%s: refused (77), the root file's bytes reach no file the app can read", async (_name, plant) => {
    if (process.getuid?.() !== 0) return console.log("skipped: needs root (the attacker is another user)");
    const f = fixture();
    chmodSync(f.d, 0o755);
    const src = plant(f);
    const r = await latchkey(["--user", `${APP}:${APP}`, "--secrets-dir", f.secrets, "--template", `${src}=${f.dest}`, "--", "true"], { env: { PATH } });
    expect(existsSync(f.dest) ? readFileSync(f.dest, "utf8") : "").not.toContain("root-only-content");
    expect(r.stderr).not.toContain("root-only-content");
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/^latchkey: error: template .*symlink/);
  });
});

describe("a template source behind root's own links (a ConfigMap volume)", () => {
  it("NAME -> ..data/NAME, ..data -> ..DATE, all root's: followed, rendered", async () => {
    if (process.getuid?.() !== 0) return console.log("skipped: needs root (the links must be root's)");
    const f = fixture();
    const vol = join(f.d, "tpl");
    mkdirSync(join(vol, "..2026_01_01"), { recursive: true });
    writeFileSync(join(vol, "..2026_01_01", "app.conf.liquid"), "user={{ DB_USER }}\n");
    symlinkSync("..2026_01_01", join(vol, "..data"));
    symlinkSync("..data/app.conf.liquid", join(vol, "app.conf.liquid"));
    const r = await latchkey(["--user", `${APP}:${APP}`, "--secrets-dir", f.secrets, "--template", `${join(vol, "app.conf.liquid")}=${f.dest}`, "--", "true"], { env: { PATH } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(f.dest, "utf8")).toBe("user=u\n");
  });
});
