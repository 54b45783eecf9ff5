/**
 * Issue #12, finding 11: `latchkey check` printed an unsalted, truncated SHA-256 of each
 * secret, so anyone with the output recovered a short secret by trying every value offline
 * (all 1.68 million four-character [a-z0-9] values in seconds). The attack, for real: run the
 * built binary's `check` on a four-character secret, take the fingerprint from its JSON and its
 * text output, and search the whole four-character space with the scheme the output used to
 * document. It must find nothing, and the fingerprint must not be a function of the value
 * alone (two runs differ), while "same secret?" stays answerable as documented: equal values
 * within one output share a fingerprint, and --fingerprint-key-file makes runs comparable.
 */
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes, randomInt } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, tmp } from "../integration/gate/net.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
// Drawn per run, so nothing about the search depends on a fixed value; never printed.
const SECRET = Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

interface Report {
  variables: Array<{ name: string; length: number; fingerprint?: string; sha256?: string }>;
}

function secretsDir(files: Record<string, string>): string {
  const dir = join(tmp(), "secrets");
  mkdirSync(dir);
  for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
  return dir;
}

async function check(dir: string, extra: string[] = [], format: "json" | "text" = "json"): Promise<string> {
  const r = await latchkey(["check", "--format", format, "--secrets-dir", dir, "--ssh", "none", ...extra], { env: cleanEnv({ HOME: tmp() }) });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const printed = (j: Report, name: string): string => {
  const v = j.variables.find((x) => x.name === name)!;
  return (v.fingerprint ?? v.sha256)!;
};

/** The offline search: every four-character [a-z0-9] value, hashed as `hash` says; the hit or null. */
function search(target: string, hash: (v: string) => string): { found: string | null; tried: number } {
  let tried = 0;
  const buf = [0, 0, 0, 0];
  for (let i = 0; i < ALPHABET.length ** 4; i++) {
    let n = i;
    for (let k = 3; k >= 0; k--) {
      buf[k] = n % ALPHABET.length;
      n = Math.floor(n / ALPHABET.length);
    }
    const v = buf.map((b) => ALPHABET[b]).join("");
    tried++;
    if (hash(v) === target) return { found: v, tried };
  }
  return { found: null, tried };
}

const sha12 = (v: string): string => createHash("sha256").update(v).digest("hex").slice(0, 12);

describe("check fingerprints cannot be searched offline (issue #12, finding 11)", () => {
  it("a four-character secret is not recovered from check's JSON by trying every four-character value", async () => {
    const dir = secretsDir({ pin: SECRET });
    const fp = printed(JSON.parse(await check(dir)) as Report, "PIN");
    const { found, tried } = search(fp, sha12);
    // A boolean, and first: on failure the message must not print the secret, nor where the search stopped.
    expect(found !== null, "the offline search recovered the secret from its fingerprint").toBe(false);
    expect(tried).toBe(36 ** 4);
  }, 120_000);

  it("the text output carries the same kind of fingerprint, and no search over it succeeds either", async () => {
    const dir = secretsDir({ pin: SECRET });
    const text = await check(dir, [], "text");
    const row = text.split("\n").find((l) => /^\s+PIN\s/.test(l))!;
    const fp = row.trim().split(/\s+/).at(-1)!;
    expect(fp).toMatch(/^[0-9a-f]{12,}$/);
    expect(search(fp, sha12).found !== null, "the offline search recovered the secret from the text output").toBe(false);
  }, 120_000);

  it("a fingerprint is not a function of the value: two runs differ; within one run equal values compare equal", async () => {
    const dir = secretsDir({ pin: SECRET, pin_copy: SECRET, other: `${SECRET}x` });
    const a = JSON.parse(await check(dir)) as Report;
    const b = JSON.parse(await check(dir)) as Report;
    // Booleans: a failure must not print fingerprints of the secret.
    expect(printed(a, "PIN") === printed(a, "PIN_COPY"), "equal values, different fingerprints in one output").toBe(true);
    expect(printed(a, "PIN") === printed(a, "OTHER"), "different values, one fingerprint").toBe(false);
    expect(printed(a, "PIN") === printed(b, "PIN"), "the same value gave the same fingerprint in two runs: it can be tabulated").toBe(false);
  });

  it("--fingerprint-key-file: runs and hosts holding the key compare; the fingerprint is HMAC-SHA256(key, value); without the key no search works", async () => {
    const keyDir = tmp();
    const key = randomBytes(32);
    const keyFile = join(keyDir, "fp.key");
    writeFileSync(keyFile, key, { mode: 0o600 });
    const dir = secretsDir({ pin: SECRET });
    const a = JSON.parse(await check(dir, ["--fingerprint-key-file", keyFile])) as Report & { fingerprintKey: string };
    const b = JSON.parse(await check(dir, ["--fingerprint-key-file", keyFile])) as Report;
    expect(printed(a, "PIN") === printed(b, "PIN"), "one key file, two runs, different fingerprints").toBe(true);
    expect(a.fingerprintKey).toBe("file");
    const hmac = (k: Buffer) => (v: string) => createHmac("sha256", k).update(v).digest("hex").slice(0, printed(a, "PIN").length);
    // The documented computation, for whoever holds the key...
    expect(printed(a, "PIN") === hmac(key)(SECRET), "the fingerprint is not HMAC-SHA256(key, value)").toBe(true);
    // ...and not the bare hash that a keyless search would test against (tests above search it whole).
    expect(printed(a, "PIN") === createHash("sha256").update(SECRET).digest("hex").slice(0, printed(a, "PIN").length)).toBe(false);
  });

  it("a short, missing or non-regular key file is one clear error, before anything is reported", async () => {
    const dir = secretsDir({ pin: SECRET });
    const keyDir = tmp();
    writeFileSync(join(keyDir, "short"), "tooshort");
    // A FIFO nobody writes to: opened non-blocking and refused, not read forever.
    execFileSync("mkfifo", [join(keyDir, "fifo")]);
    for (const [file, code, text] of [
      [join(keyDir, "short"), 78, /--fingerprint-key-file .*short: the key is 8 bytes; use at least 16/],
      [join(keyDir, "missing"), 66, /--fingerprint-key-file .*missing: cannot open it \(ENOENT\)/],
      [keyDir, 78, /--fingerprint-key-file .*: not a regular file/],
      [join(keyDir, "fifo"), 78, /--fingerprint-key-file .*fifo: not a regular file/],
      // procfs files pass fstat as regular (size 0) and fail in read(2): one line, not an internal error (70)
      ["/proc/self/mem", 71, /--fingerprint-key-file \/proc\/self\/mem: cannot read it \(EIO\)/],
      // /proc/kmsg blocks (EAGAIN: not a regular file) or, with kernel messages pending, reads
      // more than a key may be: either way one line, exit 78
      ...(process.getuid?.() === 0 ? [["/proc/kmsg", 78, /--fingerprint-key-file \/proc\/kmsg: .*(not a regular file|over 4096 bytes)/] as const] : []),
    ] as const) {
      const r = await latchkey(["check", "--secrets-dir", dir, "--ssh", "none", "--fingerprint-key-file", file], { env: cleanEnv({ HOME: tmp() }), timeoutMs: 20_000 });
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(text);
      expect(r.stdout).toBe("");
    }
  });
});
