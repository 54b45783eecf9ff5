/**
 * The arm64 executable (npm run release, or scripts/test: dist/release/linux-arm64/latchkey)
 * under qemu-user on this x86-64 machine: a subset of the integration suite that covers what
 * differs by architecture — the runtime and its FFI calls into libc (reaping, process groups,
 * the exec shim behind --user), the code caches trained for arm64, TLS and a host name lookup
 * in arm64's glibc. The rest of the suite is architecture-independent code.
 *
 * Signal forwarding is checked once, with SIGTERM: qemu-user delivers signals to the emulated
 * process itself and its timing is not the hardware's, so the full signal table
 * (supervisor/signals.test.ts) is run on x86-64 only (under qemu it timed out, 20 s per case).
 * The libraries come from Debian's arm64 packages unpacked by the build (QEMU_LD_PREFIX), not
 * installed on this machine; test/docker/portable.test.ts runs the self-contained tree.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../helpers/paths.ts";
import { run, start } from "../../helpers/run.ts";
import { fx } from "../../helpers/processes.ts";
import { makePki, type Pki } from "../../servers/vault/certs.ts";
import { TestVault } from "../../servers/vault/server.ts";

const FILE = "test/integration/platform/arm64.test.ts";
const ARM64 = process.env.LATCHKEY_ARM64_BIN ?? join(ROOT, "dist", "release", "linux-arm64", "latchkey");
const LIBS = join(ROOT, ".cache", "debs", "arm64", "root");

function unavailable(): string {
  if (process.arch === "arm64") return "this machine is arm64: the whole suite runs natively on it";
  if (!existsSync(ARM64)) return `${ARM64} is missing (scripts/test builds it where qemu-user runs aarch64 files: scripts/setup-system test)`;
  if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) return "qemu-aarch64 is not registered with binfmt_misc (scripts/setup-system test)";
  if (!existsSync(LIBS)) return `${LIBS} is missing (the arm64 build unpacks it)`;
  return "";
}
const why = unavailable();
if (why) console.log(`SKIPPED ${FILE}: ${why}`);

const env = { ...process.env, QEMU_LD_PREFIX: LIBS };
const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 12);
const zombies = (stdout: string) => Number(/zombies=(\d+)/.exec(stdout)?.[1] ?? "-1");

describe.skipIf(!!why)("arm64 latchkey under qemu-user", () => {
  let pki: Pki;
  let vault: TestVault;
  const dir = mkdtempSync(join(tmpdir(), "latchkey-arm64-"));
  const secret = `arm64-${randomBytes(9).toString("hex")}`;
  beforeAll(async () => {
    pki = makePki();
    vault = await new TestVault({ tls: { cert: pki.pem.cert, key: pki.pem.key } }).start();
    vault.namespace("").kvPut("secret", "app", { api_key: secret });
    writeFileSync(join(dir, "db-password"), `${secret}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await vault?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it("is an aarch64 executable that accepts its code caches (trained under qemu for arm64)", async () => {
    const fd = openSync(ARM64, "r");
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    closeSync(fd);
    expect(head.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    const r = await run(ARM64, ["--", "true"], { env: { ...env, LATCHKEY_CODE_CACHE_CHECK: "1" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("code cache: latchkey-main.cjs: accepted");
    const h = await run(ARM64, ["health", "--timeout", "2s", "tcp://127.0.0.1:1"], { env: { ...env, LATCHKEY_CODE_CACHE_CHECK: "1" } });
    expect(h.stderr).toContain("code cache: latchkey-health.cjs: accepted");
  });

  it("as PID 1 reaps orphans (FFI waitpid into arm64's libc) and passes the exit code through, with --user (the exec shim)", async () => {
    const r = await run("unshare", ["--pid", "--fork", "--mount-proc", ARM64, "--user", "0:0", "--", ...fx("orphan-maker.py", "100", "1", "7")], { env, timeoutMs: 120_000 });
    expect(r.stderr).toBe("");
    expect(zombies(r.stdout)).toBe(0);
    expect(r.stdout).toContain("orphans=100");
    expect(r.code).toBe(7);
  }, 120_000);

  it("forwards SIGTERM to the app and exits with its code", async () => {
    const p = start(ARM64, ["--", "sh", "-c", "trap 'exit 9' TERM; echo ready; while :; do sleep 0.1; done"], { env });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      p.proc.stdout!.on("data", (d: Buffer) => { out += d.toString(); if (out.includes("ready")) resolve(); });
      setTimeout(() => reject(new Error("the app did not start in 60 s")), 60_000);
    });
    p.proc.kill("SIGTERM");
    const r = await p.done;
    expect(r.code).toBe(9);
  }, 120_000);

  it("loads a root-only file secret, drops to a uid, and reads a Vault secret over TLS from a host name (getaddrinfo in arm64's glibc)", async () => {
    const r = await run(ARM64, ["--secrets-dir", dir, "--user", "65534:65534", "--", "sh", "-c", 'id -u; printf %s "$DB_PASSWORD" | sha256sum | cut -c1-12; printf %s "$API_KEY" | sha256sum | cut -c1-12'], {
      env: { ...env, VAULT_ADDR: `https://localhost:${new URL(vault.url).port}`, VAULT_TOKEN: vault.rootToken, VAULT_CACERT: pki.caFile, API_KEY: "vault://secret/data/app#api_key" },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["65534", fp(secret), fp(secret)]);
  }, 120_000);
});
