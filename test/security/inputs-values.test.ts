/**
 * Finding 18: every bad value is one clear line with its documented exit code, before the app
 * starts, and `check` finds the same problems.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LATCHKEY } from "../helpers/paths.ts";
import { latchkey, run } from "../helpers/run.ts";
import { env, lines, probe, readProbe, tempRoot } from "./inputs-fixtures.ts";

const t = tempRoot("values");
const EMPTY = t.path("secrets");
mkdirSync(EMPTY);
const ONE = t.path("one");
mkdirSync(ONE);
writeFileSync(t.path("one", "db_password"), "hunter2-hunter2");
const SSH = t.path("ssh-secrets");
mkdirSync(SSH);
writeFileSync(t.path("ssh-secrets", "ssh_id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n");
let n = 0;

async function refused(args: string[], extra: Record<string, string>, code: number, names: RegExp): Promise<void> {
  const out = t.path(`probe-${n++}`);
  const r = await latchkey([...args, "--", ...probe(out)], { env: env(t.home, extra), timeoutMs: 20_000 });
  expect(r.code, r.stderr).toBe(code);
  const l = lines(r.stderr);
  expect(l, r.stderr).toHaveLength(1);
  expect(l[0]).toMatch(names);
  expect(l[0]).not.toMatch(/ambiguous|internal|ERR_/);
  expect(readProbe(out), "the app must not have run").toBeNull();
}

describe("finding 18: negative durations", () => {
  it.each(["stop-timeout", "grace", "fetch-timeout"])("--%s -1s and =-1s → 64 naming the flag; LATCHKEY_* → 78", async (flag) => {
    await refused(["--secrets-dir", EMPTY, `--${flag}`, "-1s"], {}, 64, new RegExp(`--${flag}: .*negative`));
    await refused(["--secrets-dir", EMPTY, `--${flag}=-1s`], {}, 64, new RegExp(`--${flag}: .*negative`));
    await refused(["--secrets-dir", EMPTY], { [`LATCHKEY_${flag.toUpperCase().replace("-", "_")}`]: "-1s" }, 78, /negative/);
  });
});

describe("finding 18: --max-size", () => {
  it.each(["9999999MiB", "100000MiB"])("--max-size %s → 64, not an allocation failure", async (size) => {
    await refused(["--secrets-dir", ONE, "--max-size", size], {}, 64, /--max-size: .*at most/);
  });
});

describe("finding 18: an environment too large for exec", () => {
  // Secrets make it too large (an inherited environment that large would not start latchkey either).
  const HUGE = t.path("huge");
  mkdirSync(HUGE);
  writeFileSync(t.path("huge", "huge"), "x".repeat(140 * 1024));
  const MANY = t.path("many");
  mkdirSync(MANY);
  for (let i = 0; i < 40; i++) writeFileSync(t.path("many", `v${i}`), "y".repeat(100 * 1024)); // 4 MB > 8 MiB / 4

  it("one variable over the kernel's 128 KiB per string: 65 naming it, in check and in a run", async () => {
    for (const mode of [[], ["--exec"]]) await refused(["--secrets-dir", HUGE, "--max-size", "1MiB", ...mode], {}, 65, /HUGE.*128 KiB/);
    const r = await latchkey(["check", "--secrets-dir", HUGE, "--max-size", "1MiB"], { env: env(t.home) });
    expect(r.code, r.stderr).toBe(65);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(lines(r.stderr)[0]).toMatch(/HUGE/);
  });

  it("the total over a quarter of the stack limit: 65, in check and in a run", async () => {
    for (const mode of [["check"], ["--exec", "--", "true"], ["--", "true"]]) {
      // the limit is a quarter of the stack rlimit: fix it at 8 MiB whatever the runner's is
      const r = await run("/bin/sh", ["-c", 'ulimit -s 8192 && exec "$@"', "sh", LATCHKEY, "--secrets-dir", MANY, "--max-size", "1MiB", ...mode], { env: env(t.home) });
      expect(r.code, r.stderr).toBe(65);
      const l = lines(r.stderr);
      expect(l).toHaveLength(1);
      expect(l[0]).toMatch(/too large/);
      expect(l[0]).toMatch(/stack/);
    }
  });
});

describe("finding 18: --ssh-dir ''", () => {
  it("→ 64 naming --ssh-dir (LATCHKEY_SSH_DIR='' is unset, as every empty LATCHKEY_* is)", async () => {
    await refused(["--secrets-dir", SSH, "--ssh-dir", ""], {}, 64, /--ssh-dir/);
  });
});

describe("finding 18: provider limits are checked when read, whether or not the provider is used", () => {
  it.each([
    [["--vault-concurrency", "0"], {}, 64, /--vault-concurrency/],
    [["--aws-max-attempts", "0"], {}, 64, /--aws-max-attempts/],
    [[], { LATCHKEY_VAULT_CONCURRENCY: "0" }, 78, /LATCHKEY_VAULT_CONCURRENCY/],
    [[], { LATCHKEY_AWS_MAX_ATTEMPTS: "x" }, 78, /LATCHKEY_AWS_MAX_ATTEMPTS/],
    [["--vault-concurrency", "257"], {}, 64, /--vault-concurrency/],
  ])("%j %j → %i", async (flags, extra, code, names) => {
    await refused(["--secrets-dir", EMPTY, ...(flags as string[])], extra as Record<string, string>, code as number, names as RegExp);
  });
});

describe("finding 18: a control character in VAULT_TOKEN", () => {
  it("78, one line naming VAULT_TOKEN, not 'cannot reach Vault', the token never printed", async () => {
    for (const token of ["s.abc\x01def123", "s.abc\x7fdef123", "s.abc\ndef123", "s.abcédef123"]) {
      const out = t.path(`probe-vt-${n++}`);
      const r = await latchkey(["--secrets-dir", EMPTY, "--", ...probe(out)],
        { env: env(t.home, { VAULT_TOKEN: token, VAULT_ADDR: "http://127.0.0.1:9", API_KEY: "vault://secret/data/app#k", LATCHKEY_FETCH_TIMEOUT: "3s" }), timeoutMs: 20_000 });
      expect(r.code, r.stderr).toBe(78);
      const l = lines(r.stderr);
      expect(l).toHaveLength(1);
      expect(l[0]).toMatch(/VAULT_TOKEN/);
      expect(l[0]).not.toMatch(/cannot reach/);
      expect(r.stderr).not.toContain("def123");
    }
  });
});
