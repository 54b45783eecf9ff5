/**
 * --user against a test /etc/passwd and /etc/group, bind-mounted over the real ones inside a
 * private mount namespace (the host's files are never touched). The app reports who it is
 * from /proc/self/status, as the kernel sees it.
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../../helpers/paths.ts";
import { run, type RunResult } from "../../helpers/run.ts";
import { fixture, statusFields, tempDir } from "../../helpers/processes.ts";

const etc = tempDir();
const passwd = join(etc, "passwd");
const group = join(etc, "group");
writeFileSync(passwd, [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "tester:x:4242:4242:Test User:/home/tester:/bin/sh",
  "",
].join("\n"));
writeFileSync(group, [
  "root:x:0:",
  "nogroup:x:65534:",
  "tester:x:4242:",
  "extra1:x:5001:tester",
  "extra2:x:5002:someone,tester",
  "unrelated:x:5003:someone",
  "",
].join("\n"));

/** Run latchkey with `args` as PID 1 of new mount+PID namespaces where /etc has the test files. */
function withTestEtc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `mount --bind ${q(passwd)} /etc/passwd && mount --bind ${q(group)} /etc/group && exec ${[LATCHKEY, ...args].map(q).join(" ")}`;
  return run("unshare", ["--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", script], { env: { ...process.env, ...env } });
}

interface Who {
  uid: string[];
  gid: string[];
  groups: string[];
  home: string;
}

function who(r: RunResult): Who {
  expect(r.code, r.stderr).toBe(0);
  const f = statusFields(r.stdout);
  return {
    uid: f.Uid!.split(/\s+/),
    gid: f.Gid!.split(/\s+/),
    groups: f.Groups!.split(/\s+/).filter(Boolean).sort(),
    home: f.HOME!,
  };
}

const identity = fixture("identity.sh");

describe.each([["supervise", []], ["exec", ["--exec"]]] as const)("--user in %s mode", (_mode, mode) => {
  it("a name: uid, gid, supplementary groups and HOME of that user (like gosu)", async () => {
    const w = who(await withTestEtc([...mode, "--user", "tester", "--", identity]));
    expect(w.uid).toEqual(["4242", "4242", "4242", "4242"]); // real, effective, saved, fs
    expect(w.gid).toEqual(["4242", "4242", "4242", "4242"]);
    expect(w.groups).toEqual(["4242", "5001", "5002"]);
    expect(w.home).toBe("/home/tester");
  });

  it("a uid that is in passwd: the same as its name", async () => {
    const w = who(await withTestEtc([...mode, "--user", "4242", "--", identity]));
    expect(w.uid[0]).toBe("4242");
    expect(w.gid[0]).toBe("4242");
    expect(w.groups).toEqual(["4242", "5001", "5002"]);
    expect(w.home).toBe("/home/tester");
  });

  it("user:group: exactly that group, no supplementary groups", async () => {
    const w = who(await withTestEtc([...mode, "--user", "tester:extra1", "--", identity]));
    expect(w.uid[0]).toBe("4242");
    expect(w.gid).toEqual(["5001", "5001", "5001", "5001"]);
    expect(w.groups).toEqual(["5001"]);
    expect(w.home).toBe("/home/tester");
  });

  it("uid:gid not in the files: taken as given", async () => {
    const w = who(await withTestEtc([...mode, "--user", "7000:7001", "--", identity]));
    expect(w.uid[0]).toBe("7000");
    expect(w.gid[0]).toBe("7001");
    expect(w.groups).toEqual(["7001"]);
    expect(w.home).toBe("/");
  });

  it("a uid not in passwd gets gid 0 and HOME=/ (as docker run --user and gosu do)", async () => {
    const w = who(await withTestEtc([...mode, "--user", "4999", "--", identity]));
    expect(w.uid).toEqual(["4999", "4999", "4999", "4999"]);
    expect(w.gid[0]).toBe("0");
    expect(w.groups).toEqual(["0"]);
    expect(w.home).toBe("/");
  });

  it("LATCHKEY_USER works like --user", async () => {
    const w = who(await withTestEtc([...mode, "--", identity], { LATCHKEY_USER: "tester" }));
    expect(w.uid[0]).toBe("4242");
    expect(w.groups).toEqual(["4242", "5001", "5002"]);
  });
});

describe("--user fails closed, before the app starts", () => {
  it("an app in a directory the user cannot enter → 126 naming it, both modes", async () => {
    const priv = tempDir();
    chmodSync(priv, 0o700);
    const tool = join(priv, "tool");
    writeFileSync(tool, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    for (const mode of [[], ["--exec"]]) {
      const r = await withTestEtc([...mode, "--user", "tester", "--", tool]);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain(`cannot enter directory ${priv}`);
    }
  });

  // world-writable, so that an app wrongly started as any user could leave its mark
  const marker = () => {
    const d = tempDir();
    chmodSync(d, 0o777);
    return join(d, "app-ran");
  };
  const app = (m: string) => ["sh", "-c", `touch '${m}'`];

  it.each([
    ["unknown user", "nosuchuser", 67, /unknown user 'nosuchuser'/],
    ["unknown group", "tester:nosuchgroup", 67, /unknown group 'nosuchgroup'/],
    ["uid out of range", "4294967295", 64, /out of range/],
    ["gid out of range", "tester:99999999999", 64, /out of range/],
    ["malformed", "a:b:c", 64, /invalid value 'a:b:c'/],
    ["empty user", ":0", 64, /invalid value/],
  ])("%s → exit %i", async (_what, spec, code, message) => {
    for (const mode of [[], ["--exec"]]) {
      const m = marker();
      const r = await withTestEtc([...mode, "--user", spec, "--", ...app(m)]);
      expect(r.code).toBe(code);
      const l = r.stderr.split("\n").filter(Boolean);
      expect(l).toHaveLength(1);
      expect(l[0]).toMatch(message);
      expect(existsSync(m), "the app must not have run").toBe(false);
    }
  });

  it("latchkey not running as root → 77", async () => {
    for (const mode of [[], ["--exec"]]) {
      const m = marker();
      const r = await run("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups",
        LATCHKEY, ...mode, "--user", "4242", "--", ...app(m)]);
      expect(r.code).toBe(77);
      expect(r.stderr).toMatch(/^latchkey: error: .*not root/);
      expect(existsSync(m)).toBe(false);
    }
  });

  it.each([
    ["CAP_SETUID and CAP_SETGID", "-setuid,-setgid", /CAP_SETUID and CAP_SETGID/],
    ["CAP_SETUID", "-setuid", /without CAP_SETUID\b/],
    ["CAP_SETGID", "-setgid", /without CAP_SETGID\b/],
  ])("root without %s → 77", async (_what, drop, message) => {
    for (const mode of [[], ["--exec"]]) {
      const m = marker();
      const r = await run("setpriv", ["--inh-caps=-all", `--bounding-set=${drop}`,
        LATCHKEY, ...mode, "--user", "4242", "--", ...app(m)]);
      expect(r.code).toBe(77);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(existsSync(m)).toBe(false);
    }
  });

  it("switching to the user latchkey already is needs no privilege", async () => {
    const r = await run("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups",
      LATCHKEY, "--user", "65534:65534", "--", "id", "-u"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("65534");
  });
});
