/**
 * The self-contained latchkey (/opt/latchkey, build/tree.ts) in real containers, on both
 * architectures (arm64 under qemu-user), in three roots that the single executable cannot run
 * in, each made from Debian packages (no image registry is reachable here):
 *   glibc    libc6 + libc-bin (getent) + a static busybox: a glibc image without libstdc++ or
 *            libatomic (bookworm-slim, python:*-slim lack libatomic)
 *   musl     Debian's musl + a static busybox: standing in for Alpine
 *   busybox  a static busybox alone: standing in for distroless static and scratch
 * In each: latchkey is PID 1 and reaps orphans, forwards SIGTERM and returns the app's exit
 * code, drops to --user from the image's own /etc/passwd, loads file secrets, and reads a Vault
 * secret from a host name (the container's /etc/hosts) over TLS, while nothing of its loader
 * or libraries reaches the app. Plus, on x64, the example app image with libatomic removed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.ts";
import { makePki, type Pki } from "../servers/vault/certs.ts";
import { TestVault } from "../servers/vault/server.ts";
import { docker, DOCKER, dockerAvailable, dockerOk, IMAGES, LABEL, uniqueName, useDockerCleanup, waitFor } from "./helpers/docker.ts";

const FILE = "test/docker/portable.test.ts";
const status = dockerAvailable(FILE);
useDockerCleanup(status.ok);

type Arch = "x64" | "arm64";
const ARCH: Record<Arch, { deb: string; platform: string; image: string }> = {
  x64: { deb: "amd64", platform: "linux/amd64", image: IMAGES.latchkey },
  arm64: { deb: "arm64", platform: "linux/arm64", image: "latchkey:local-arm64" },
};
type Root = "glibc" | "musl" | "busybox";
const ROOTS: Record<Root, string[]> = {
  glibc: ["busybox-static", "libc6", "libc-bin"],
  musl: ["busybox-static", "musl"],
  busybox: ["busybox-static"],
};
const APPLETS = ["sh", "id", "cat", "grep", "sleep", "ls", "sha256sum", "cut", "tr", "env", "wc", "awk", "head", "printf"];

/** Why an architecture cannot be tested here, or "" when it can. */
function unavailable(arch: Arch): string {
  if (!status.ok) return status.reason;
  if (execFileSync(DOCKER, ["images", "-q", ARCH[arch].image], { encoding: "utf8" }).trim() === "") {
    return `no ${ARCH[arch].image} image (scripts/docker-setup builds it only where binfmt_misc runs aarch64 files through qemu: scripts/setup-system test)`;
  }
  return "";
}

/** Debian packages of `arch`, downloaded once into .cache (apt-get download; not installed). */
function debs(arch: Arch, pkgs: string[]): string[] {
  const dir = join(ROOT, ".cache", "debs", ARCH[arch].deb, "test-roots");
  mkdirSync(dir, { recursive: true });
  const find = (p: string) => readdirSync(dir).find((f) => f.startsWith(`${p}_`) && f.endsWith(".deb"));
  const missing = pkgs.filter((p) => !find(p));
  if (missing.length) execFileSync("apt-get", ["download", "-q", ...missing.map((p) => `${p}:${ARCH[arch].deb}`)], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  return pkgs.map((p) => join(dir, find(p)!));
}

/** An image: the root made of `ROOTS[root]`, the app, users app (1001) and app-data (1002), and /opt/latchkey from the latchkey image. */
async function buildImage(arch: Arch, root: Root, tag: string): Promise<void> {
  const ctx = mkdtempSync(join(tmpdir(), `lk-portable-${root}-`));
  try {
    const fs = join(ctx, "rootfs");
    mkdirSync(fs);
    for (const deb of debs(arch, ROOTS[root])) execFileSync("dpkg-deb", ["-x", deb, fs]);
    // The libraries only the runtime of latchkey needs are not in any of these roots.
    for (const dir of ["bin", "etc", "tmp", "app", "run/secrets", "usr/share"]) mkdirSync(join(fs, dir), { recursive: true });
    rmSync(join(fs, "usr/share/doc"), { recursive: true, force: true });
    rmSync(join(fs, "usr/share/man"), { recursive: true, force: true });
    for (const a of APPLETS) if (!existsSync(join(fs, "bin", a))) symlinkSync("busybox", join(fs, "bin", a));
    writeFileSync(join(fs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001:app:/app:/bin/sh\n");
    writeFileSync(join(fs, "etc/group"), "root:x:0:\napp:x:1001:\napp-data:x:1002:app\n");
    copyFileSync(join(ROOT, "test/docker/fixtures/portable/app.sh"), join(fs, "app/app.sh"));
    // An image's LD_LIBRARY_PATH (CUDA and Oracle client images set one) naming a libc.so.6
    // that latchkey's loader must not take: here not even an ELF file.
    mkdirSync(join(fs, "badlib"));
    writeFileSync(join(fs, "badlib/libc.so.6"), "not a library\n");
    execFileSync("tar", ["-C", fs, "--numeric-owner", "--owner=0", "--group=0", "-cf", join(ctx, "rootfs.tar"), "."]);
    rmSync(fs, { recursive: true });
    writeFileSync(join(ctx, "Dockerfile"), [
      "ARG LATCHKEY_IMAGE",
      "FROM ${LATCHKEY_IMAGE} AS latchkey",
      "FROM scratch",
      "ADD rootfs.tar /",
      // The one line of the README's Docker guide.
      "COPY --from=latchkey /opt/latchkey /opt/latchkey",
      'ENV PATH=/bin:/usr/bin',
      'ENTRYPOINT ["/opt/latchkey/bin/latchkey"]',
      "",
    ].join("\n"));
    await dockerOk(["build", "-q", "--platform", ARCH[arch].platform, "--label", LABEL, "--build-arg", `LATCHKEY_IMAGE=${ARCH[arch].image}`, "-t", tag, ctx], { timeoutMs: 300_000 });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

function facts(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 12);

let pki: Pki;
let vault: TestVault;
const secretsDir = mkdtempSync(join(tmpdir(), "lk-portable-secrets-"));
const values = { db: `db-${randomBytes(9).toString("hex")}`, api: `api-${randomBytes(9).toString("hex")}` };

beforeAll(async () => {
  if (!status.ok) return;
  pki = makePki();
  vault = await new TestVault({ tls: { cert: pki.pem.cert, key: pki.pem.key } }).start();
  vault.namespace("").kvPut("secret", "app", { api_key: values.api });
  writeFileSync(join(secretsDir, "db-password"), `${values.db}\n`, { mode: 0o644 });
});
afterAll(async () => {
  await vault?.stop();
  rmSync(secretsDir, { recursive: true, force: true });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

for (const arch of ["x64", "arm64"] as const) {
  const why = unavailable(arch);
  if (why) console.log(`SKIPPED ${FILE} (${arch}): ${why}`);
  for (const root of ["glibc", "musl", "busybox"] as const) {
    describe.skipIf(!!why)(`self-contained latchkey, ${arch}, ${root} root`, () => {
      const tag = `latchkey-test/portable-${root}:${arch}-${uniqueName("t")}`;
      beforeAll(async () => {
        const t0 = performance.now();
        await buildImage(arch, root, tag);
        console.log(`portable ${arch} ${root}: image built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }, 300_000);

      it("is PID 1, reaps orphans, drops to --user from the image's /etc/passwd, loads file and Vault (TLS, by host name) secrets, returns the app's exit code; nothing of it reaches the app", async () => {
        const port = new URL(vault.url).port;
        const t0 = performance.now();
        const r = await docker(["run", "--rm", "--label", LABEL, "--platform", ARCH[arch].platform,
          // Only this machine's network: the host's loopback, where the test Vault listens, by a
          // name the container's /etc/hosts gives it (no nsswitch.conf in these roots).
          "--network", "host", "--add-host", "vault.test:127.0.0.1",
          "-v", `${secretsDir}:/run/secrets:ro`, "-v", `${pki.caFile}:/etc/vault-ca.pem:ro`,
          "-e", `VAULT_ADDR=https://vault.test:${port}`, "-e", `VAULT_TOKEN=${vault.rootToken}`, "-e", "VAULT_CACERT=/etc/vault-ca.pem",
          "-e", "API_KEY=vault://secret/data/app#api_key",
          tag, "--user", "app", "--", "/bin/sh", "/app/app.sh", "report"], { timeoutMs: 120_000 });
        console.log(`portable ${arch} ${root}: docker run → exit in ${(performance.now() - t0).toFixed(0)} ms`);
        expect(r.stderr).not.toContain(values.db);
        expect(r.stderr).not.toContain(values.api);
        expect(r.code, r.stderr).toBe(3);
        const f = facts(r.stdout);
        // Under qemu-user (binfmt_misc, P flag) /proc/1/cmdline starts with the emulator.
        const emulator = arch === "arm64" && process.arch !== "arm64" ? String.raw`/usr/libexec/qemu-binfmt/\S+ /opt/latchkey/bin/latchkey ` : "";
        expect(f.pid1).toMatch(new RegExp(`^${emulator}/opt/latchkey/bin/latchkey --user app `));
        expect(f.id).toBe("1001:1001:1001,1002");
        expect(f.user).toBe("app");
        expect(f.db).toBe(fp(values.db));
        expect(f.api).toBe(fp(values.api));
        expect(f.ld_vars).toBe("0");
        expect(f.latchkey_in_maps).toBe("0");
        expect(f.zombies).toBe("0");
        if (root === "glibc") {
          expect(f.getent).toBe("app:1001");
          // The image's own libc, not /opt/latchkey/lib/libc.so.6.
          expect(f.libc).toMatch(/^\/lib\/[a-z0-9_]+-linux-gnu\/libc\.so\.6$/);
        }
      }, 180_000);

      it("starts with an LD_LIBRARY_PATH in the image's environment, and passes it on to the app untouched", async () => {
        const r = await docker(["run", "--rm", "--label", LABEL, "--platform", ARCH[arch].platform, "-e", "LD_LIBRARY_PATH=/badlib",
          tag, "--", "/bin/sh", "-c", 'echo "ld=$LD_LIBRARY_PATH"'], { timeoutMs: 120_000 });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe("ld=/badlib");
      }, 180_000);

      it("forwards docker stop's SIGTERM to the app and exits with the app's code", async () => {
        const name = uniqueName(`portable-${root}-${arch}`);
        await dockerOk(["run", "-d", "--name", name, "--label", LABEL, "--platform", ARCH[arch].platform, tag, "--", "/bin/sh", "/app/app.sh", "term"]);
        await waitFor("the app to be ready", 60_000, async () => ((await docker(["logs", name])).stdout.includes("ready") ? true : undefined));
        await dockerOk(["stop", "-t", "20", name], { timeoutMs: 60_000 });
        expect(await dockerOk(["inspect", "-f", "{{.State.ExitCode}}", name])).toBe("7");
        expect((await docker(["logs", name])).stdout).toContain("got-TERM");
      }, 180_000);
    });
  }
}

// The example app image (Python, glibc) on a base without libatomic: the single executable
// (/latchkey, the README's old line) cannot start there; /opt/latchkey can, and the app's
// process maps the image's libc.
describe.skipIf(!!unavailable("x64"))("example app on a glibc base without libatomic (x64)", () => {
  const tag = `latchkey-test/portable-example:${uniqueName("t")}`;
  beforeAll(async () => {
    const ctx = mkdtempSync(join(tmpdir(), "lk-portable-example-"));
    try {
      writeFileSync(join(ctx, "Dockerfile"), [
        `FROM ${IMAGES.latchkey} AS latchkey`,
        `FROM ${IMAGES.app}`,
        "USER root",
        "RUN rm -f /usr/lib/*-linux-gnu/libatomic.so.1* /lib/*-linux-gnu/libatomic.so.1*",
        "COPY --from=latchkey /opt/latchkey /opt/latchkey",
        "COPY --from=latchkey /latchkey /usr/local/bin/latchkey",
        'ENTRYPOINT ["/opt/latchkey/bin/latchkey", "--"]',
        "",
      ].join("\n"));
      await dockerOk(["build", "-q", "--label", LABEL, "-t", tag, ctx], { timeoutMs: 300_000 });
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  }, 300_000);

  it("the single executable fails there (libatomic.so.1 missing)", async () => {
    const r = await docker(["run", "--rm", "--label", LABEL, "--entrypoint", "/usr/local/bin/latchkey", tag, "version"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("libatomic.so.1");
  });

  it("the self-contained latchkey runs the Python app as PID 1, on the image's libc", async () => {
    // The example's config requires API_KEY too: a plain value is enough here.
    const r = await docker(["run", "--rm", "--label", LABEL, "-v", `${secretsDir}:/run/secrets:ro`, "-e", "API_KEY=example-not-secret", tag, "python3", "-c", [
      "import os, hashlib",
      "maps = open('/proc/self/maps').read()",
      "libc = sorted({l.split()[-1] for l in maps.splitlines() if 'libc.so' in l})",
      "print('pid1=' + open('/proc/1/cmdline').read().split('\\0')[0])",
      "print('libc=' + ','.join(libc))",
      "print('latchkey_in_maps=%d' % maps.count('/opt/latchkey'))",
      "print('ld_vars=%d' % len([k for k in os.environ if k.startswith('LD_')]))",
      "print('db=' + hashlib.sha256(os.environ['DB_PASSWORD'].encode()).hexdigest()[:12])",
    ].join("\n")]);
    expect(r.code, r.stderr).toBe(0);
    const f = facts(r.stdout);
    expect(f.pid1).toBe("/opt/latchkey/bin/latchkey");
    expect(f.libc).toMatch(/^\/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6$/);
    expect(f.latchkey_in_maps).toBe("0");
    expect(f.ld_vars).toBe("0");
    expect(f.db).toBe(fp(values.db));
  });
});

// docs/readme/docker.md "Publishing a multi-arch image", run as written against a registry on
// 127.0.0.1 (Debian's docker-registry; Docker allows plain HTTP to a loopback registry).
const REGISTRY = ["/usr/bin/docker-registry", "/usr/bin/registry"].find((f) => existsSync(f));
const publishWhy = unavailable("x64") || unavailable("arm64") || (REGISTRY ? "" : "no docker-registry here (scripts/setup-system test installs it)");
if (publishWhy && status.ok) console.log(`SKIPPED ${FILE} (multi-arch publish): ${publishWhy}`);
describe.skipIf(!!publishWhy)("a multi-arch latchkey image: two pushes and a manifest list", () => {
  let registry: ChildProcess | null = null;
  let dir = "";
  let repo = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lk-registry-"));
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    writeFileSync(join(dir, "config.yml"), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    registry = spawn(REGISTRY!, ["serve", join(dir, "config.yml")], { stdio: "ignore" });
    repo = `127.0.0.1:${port}/latchkey`;
    await waitFor("the registry", 30_000, async () => ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok ? true : undefined));
  }, 60_000);
  afterAll(async () => {
    if (registry?.pid) process.kill(registry.pid, "SIGTERM");
    if (repo) {
      await docker(["rmi", `${repo}:t-amd64`, `${repo}:t-arm64`, `${repo}:t`]);
      await docker(["manifest", "rm", `${repo}:t`]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("docker manifest create/push: one tag, each platform pulls its own image", async () => {
    for (const [arch, image] of [["amd64", ARCH.x64.image], ["arm64", ARCH.arm64.image]] as const) {
      await dockerOk(["tag", image, `${repo}:t-${arch}`]);
      await dockerOk(["push", "-q", `${repo}:t-${arch}`], { timeoutMs: 300_000 });
    }
    await dockerOk(["manifest", "create", "--insecure", `${repo}:t`, `${repo}:t-amd64`, `${repo}:t-arm64`]);
    await dockerOk(["manifest", "push", "--insecure", `${repo}:t`]);
    const list = JSON.parse(await dockerOk(["manifest", "inspect", "--insecure", `${repo}:t`])) as { manifests: { platform: { architecture: string; os: string } }[] };
    expect(list.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    await dockerOk(["rmi", `${repo}:t-arm64`]);
    await dockerOk(["pull", "-q", "--platform", "linux/arm64", `${repo}:t`], { timeoutMs: 300_000 });
    expect(await dockerOk(["image", "inspect", "-f", "{{.Architecture}}", `${repo}:t`])).toBe("arm64");
  }, 600_000);
});
