/**
 * Finding 7 (issue #12): the app user owns a directory above --ssh-dir and replaces a
 * component below it with a symlink to /root. latchkey (root) must refuse, and root's own
 * .ssh must stay root's, untouched.
 *
 * /root is a tmpfs in a private mount namespace (the machine's /root is never touched); the
 * symlink is planted by a process running as the app user.
 */
import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { run } from "../helpers/run.ts";
import { tempDir } from "../helpers/processes.ts";
import { SSH_KEY } from "../fixtures/secret-values.ts";
import { writeFileSync } from "node:fs";

const APP = 65534;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * In a private mount namespace: a fresh /root with a root-owned .ssh, the app user plants
 * `link -> target` (as uid 65534), latchkey installs into `sshDir`; prints latchkey's exit
 * code and what became of /root/.ssh.
 */
async function attack(link: string | null, target: string, sshDir: string, secrets: string) {
  const script = [
    "set -e",
    "mount -t tmpfs -o mode=0700 tmpfs /root",
    "mkdir -m 0700 /root/.ssh",
    link ? `setpriv --reuid ${APP} --regid ${APP} --clear-groups ln -s ${q(target)} ${q(link)}` : "true",
    "set +e",
    `${q(LATCHKEY)} --user ${APP}:${APP} --secrets-dir ${q(secrets)} --ssh-dir ${q(sshDir)} -- true`,
    'echo "rc=$?"',
    "stat -c 'owner=%u:%g mode=%a' /root/.ssh",
    'echo "entries=$(ls -A /root/.ssh | tr "\\n" " ")"',
  ].join("\n");
  const r = await run("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(r.stdout)?.[1]?.trim();
  return { rc: field("rc"), owner: field("owner"), entries: field("entries"), stderr: r.stderr };
}

describe("--ssh-dir below a directory the app user owns (finding 7)", () => {
  const cases = [
    // the app owns .../home and replaces the "user" directory under it with a link to /root
    ["an ancestor replaced by a symlink to /root", (h: string): [string, string, string] => [join(h, "user"), "/root", join(h, "user", ".ssh")]],
    // a link to / further up: /root/.ssh reached through a longer path
    ["an ancestor replaced by a symlink to /", (h: string): [string, string, string] => [join(h, "up"), "/", join(h, "up", "root", ".ssh")]],
    // the .ssh directory itself
    ["the .ssh directory replaced by a symlink to /root/.ssh", (h: string): [string, string, string] => [join(h, ".ssh"), "/root/.ssh", join(h, ".ssh")]],
  ] as const;
  it.each(cases)("%s: refused (77), /root/.ssh stays root's and empty", async (_name, layout) => {
    if (process.getuid!() !== 0) {
      console.log("skipped: the attack needs root (latchkey as root, the app as uid %d); this run is uid %d", APP, process.getuid!());
      return;
    }
    const d = tempDir("latchkey-ssh-ancestor-");
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "ssh_id_ed25519"), SSH_KEY);
    const home = join(d, "home");
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, APP, APP); // the app user's
    const [link, target, sshDir] = layout(home);
    const r = await attack(link, target, sshDir, secrets);
    expect(r.owner, `/root/.ssh after the attack (latchkey said: ${r.stderr.trim()})`).toBe("0:0 mode=700");
    expect(r.entries, "nothing written into /root/.ssh").toBe("");
    expect(r.rc, r.stderr).toBe("77");
    expect(r.stderr).toMatch(/symlink/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("--ssh-dir naming root's own .ssh (root-owned, in a root-owned directory): refused (77), never chowned", async () => {
    if (process.getuid!() !== 0) {
      console.log("skipped: needs root (a private /root); this run is uid %d", process.getuid!());
      return;
    }
    const d = tempDir("latchkey-ssh-rootdir-");
    const secrets = join(d, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "ssh_id_ed25519"), SSH_KEY);
    const r = await attack(null, "", "/root/.ssh", secrets);
    expect(r.owner).toBe("0:0 mode=700");
    expect(r.entries).toBe("");
    expect(r.rc, r.stderr).toBe("77");
    expect(r.stderr).toContain("/root/.ssh is owned by uid 0 in a directory the app user (uid 65534) does not own; refusing to hand it to uid 65534");
  });
});
