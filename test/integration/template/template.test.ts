/**
 * Templates end to end: the built binary renders several secrets into one file, as the app
 * user, before the app starts; a template error stops the start; a rotation re-renders and runs
 * the template's own action; a template cannot read files or run code.
 */
import { describe, expect, it } from "vitest";
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latchkey, start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { lines, sleep, tempDir, waitFor } from "../../helpers/processes.ts";
import { kubeWrite } from "../../helpers/kube-volume.ts";
import { FX, SECRET_VALUES } from "../../fixtures/secret-values.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const TEMPLATE = "user: {{ DB_USER }}\npassword: {{ DB_PASSWORD | json }}\napi_key: {{ API_KEY }}\n";
const rendered = (pw: string) => `user: ${FX.tplUser}\npassword: "${pw}"\napi_key: ${FX.tplKey}\n`;

/** A secrets dir with three file secrets, a template, and a place for the app's notes. */
function fixture(tpl = TEMPLATE) {
  const d = tempDir();
  const secrets = join(d, "secrets");
  mkdirSync(secrets);
  kubeWrite(secrets, { db_user: FX.tplUser, db_password: FX.tplPassword, api_key: FX.tplKey });
  const template = join(d, "app.yml.liquid");
  writeFileSync(template, tpl);
  const notes = join(d, "notes");
  mkdirSync(notes);
  chmodSync(notes, 0o777); // the app user writes its notes here
  return { d, secrets, template, dest: join(d, "conf", "app.yml"), out: join(notes, "out"), marker: join(notes, "started") };
}

const noSecretIn = (text: string) => {
  for (const v of SECRET_VALUES) expect(text).not.toContain(v);
};

describe("templates (built binary)", () => {
  it("three file secrets render into one file, 0400 and owned by the --user app user, before the app starts", async () => {
    if (process.getuid?.() !== 0) return console.log("skipped: --user needs root to switch users");
    const f = fixture();
    const app = `id -u > "$OUT"; cat "$DEST" >> "$OUT"`;
    const r = await latchkey(["--user", "nobody", "--secrets-dir", f.secrets, "--template", `${f.template}=${f.dest}`, "--", "sh", "-c", app],
      { env: { PATH, OUT: f.out, DEST: f.dest } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // The app, as nobody, read the complete file through the link.
    expect(readFileSync(f.out, "utf8")).toBe(`65534\n${rendered(FX.tplPassword)}`);
    const st = statSync(f.dest);
    expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ uid: 65534, gid: 65534, mode: "400" });
    expect(lstatSync(f.dest).isSymbolicLink()).toBe(true); // DEST -> ..data/app.yml: switched as a set
    expect(readdirSync(join(f.d, "conf")).filter((n) => !n.startsWith("..")).sort()).toEqual(["app.yml"]);
  });

  it("the app user owns DEST's directory and planted DEST -> a root file: the link is replaced, the root file untouched", async () => {
    if (process.getuid?.() !== 0) return console.log("skipped: needs root (the attacker is another user)");
    const f = fixture();
    const conf = join(f.d, "conf");
    mkdirSync(conf);
    chownSync(conf, 65534, 65534); // the app's own directory
    const victim = join(f.d, "victim");
    writeFileSync(victim, "root-owned\n", { mode: 0o644 });
    symlinkSync(victim, f.dest);
    lchownSync(f.dest, 65534, 65534);
    const r = await latchkey(["--user", "nobody", "--secrets-dir", f.secrets, "--template", `${f.template}=${f.dest}`, "--", "sh", "-c", "exit 0"], { env: { PATH } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("root-owned\n");
    expect(statSync(victim).uid).toBe(0);
    expect(readlinkSync(f.dest)).toBe("..data/app.yml");
    expect(readFileSync(f.dest, "utf8")).toBe(rendered(FX.tplPassword));
  });

  it("--template-only keeps a variable out of the app's environment; naming one no template reads stops the start (78)", async () => {
    const f = fixture();
    const app = `echo "env:\${API_KEY:-none}" > "$OUT"; cat "$DEST" >> "$OUT"`;
    const r = await latchkey(["--secrets-dir", f.secrets, "--template", `${f.template}=${f.dest}`, "--template-only", "API_KEY", "--", "sh", "-c", app],
      { env: { PATH, OUT: f.out, DEST: f.dest } });
    expect(r.code).toBe(0);
    expect(readFileSync(f.out, "utf8")).toBe(`env:none\n${rendered(FX.tplPassword)}`);
    const g = fixture("user: {{ DB_USER }}\n");
    const bad = await latchkey(["--secrets-dir", g.secrets, "--template", `${g.template}=${g.dest}`, "--template-only", "API_KEY", "--", "sh", "-c", `touch "$MARK"`],
      { env: { PATH, MARK: g.marker } });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/^latchkey: error: --template-only: no template reads API_KEY: kept out of the app's environment, it would reach nothing/);
    expect(existsSync(g.marker)).toBe(false);
  });

  it("a missing variable fails before the app starts: exit 78, one line naming template, line and variable, nothing written", async () => {
    const f = fixture("user: {{ DB_USER }}\npassword: {{ DB_PASSWRD }}\n");
    const r = await latchkey(["--secrets-dir", f.secrets, "--template", `${f.template}=${f.dest}`, "--", "sh", "-c", `touch "$MARK"`],
      { env: { PATH, MARK: f.marker } });
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split("\n")).toEqual([`latchkey: error: template ${f.template} line 2: undefined variable DB_PASSWRD code=template`]);
    expect(existsSync(f.marker)).toBe(false);
    expect(existsSync(join(f.d, "conf"))).toBe(false);
    noSecretIn(r.stdout + r.stderr);
  });

  it("a rotation of one secret re-renders the file and runs the template's action (signal:HUP): the app reads the new complete file, no restart", async () => {
    const f = fixture();
    const config = join(f.d, "latchkey.yaml");
    // --on-change stays restart (the default): the variables the template reads take its action.
    writeFileSync(config, `templates:\n  - source: ${f.template}\n    destination: ${f.dest}\n    action: signal:HUP\n    mode: "0440"\n`);
    const app = `trap 'echo "hup $$"; cat "$DEST"' HUP
echo "start $$"; cat "$DEST"
while :; do sleep 0.05; done`;
    const run = start(LATCHKEY, ["--log-level", "info", "--config", config, "--secrets-dir", f.secrets, "--debounce", "100ms", "--", "sh", "-c", `exec >> "$OUT"; ${app}`],
      { env: { PATH, OUT: f.out, DEST: f.dest }, timeoutMs: 60_000 });
    try {
      await waitFor(() => readFileSync(f.out, { encoding: "utf8", flag: "a+" }).includes("api_key"), "the app's first read");
      await sleep(300); // the watches are armed 50 ms after the start
      kubeWrite(f.secrets, { db_user: FX.tplUser, db_password: FX.tplPassword2, api_key: FX.tplKey });
      await waitFor(() => lines(f.out).some((l) => l.startsWith("hup ")) && readFileSync(f.out, "utf8").split("hup ")[1]!.includes("api_key"), "SIGHUP and the app's second read");
      await sleep(500); // room for a spurious second action
      const text = readFileSync(f.out, "utf8");
      const [first, second] = text.split(/^hup \d+\n/m);
      expect(first).toMatch(/^start \d+\n/);
      expect(first!.replace(/^start \d+\n/, "")).toBe(rendered(FX.tplPassword));
      expect(second).toBe(rendered(FX.tplPassword2)); // the whole new file, never a mix
      expect(lines(f.out).filter((l) => l.startsWith("start "))).toHaveLength(1); // signalled, not restarted
      expect((statSync(f.dest).mode & 0o777).toString(8)).toBe("440");
    } finally {
      run.proc.kill("SIGTERM");
    }
    const r = await run.done;
    expect(r.stderr).toMatch(/secrets changed; signalled the app .*signal=SIGHUP delivered=true .*changed=DB_PASSWORD action=signal:SIGHUP/);
    expect(r.stderr).toContain(`templates=${f.dest}`);
    noSecretIn(r.stdout + r.stderr);
  });

  it("a template that tries to read a file or reach code fails before the app starts (exit 78), and shows nothing of it", async () => {
    const attempts: [string, RegExp][] = [
      ["{% include '/etc/passwd' %}", /line 1: the include tag is not allowed: a template cannot read other files/],
      ["{% render '/etc/passwd' %}", /line 1: the render tag is not allowed/],
      ["x\n{% layout '/etc/passwd' %}", /line 2: the layout tag is not allowed/],
      ["{{ DB_USER.constructor.constructor }}", /line 1: undefined variable DB_USER.constructor/],
      ["{{ DB_USER | eval }}", /line 1: undefined filter eval/],
      ["{% javascript %}process.exit(3){% endjavascript %}", /line 1: tag "javascript" not found/],
    ];
    for (const [tpl, message] of attempts) {
      const f = fixture(tpl);
      const r = await latchkey(["--secrets-dir", f.secrets, "--template", `${f.template}=${f.dest}`, "--", "sh", "-c", `touch "$MARK"`],
        { env: { PATH, MARK: f.marker } });
      expect(r.code, tpl).toBe(78);
      expect(r.stderr, tpl).toMatch(message);
      expect(r.stderr.trim().split("\n"), tpl).toHaveLength(1);
      expect(r.stderr, tpl).not.toContain("root:x:0");
      expect(existsSync(f.marker), tpl).toBe(false);
      expect(existsSync(join(f.d, "conf")), tpl).toBe(false);
    }
  });
});
