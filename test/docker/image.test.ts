/**
 * The repository Dockerfile: the final image holds only the executable and its licenses, no
 * build secret ends up in a layer, the test stage passes, and the executable runs on exactly
 * the shared libraries the docs list.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.ts";
import { debianMirror, docker, dockerAvailable, dockerOk, IMAGES, LABEL, uniqueName, useDockerCleanup } from "./helpers/docker.ts";

const status = dockerAvailable("test/docker/image.test.ts");
useDockerCleanup(status.ok);

const work = mkdtempSync(join(tmpdir(), "lk-image-"));
const tags: string[] = [];
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (status.ok && tags.length) await docker(["rmi", "-f", ...tags]);
});

/** Files (not directories) of every layer of an image, from `docker save`. */
async function layerFiles(image: string): Promise<{ layers: Array<Array<{ path: string; size: number }>>; dir: string }> {
  const dir = mkdtempSync(join(work, "save-"));
  await dockerOk(["save", "-o", join(dir, "image.tar"), image]);
  execFileSync("tar", ["-xf", join(dir, "image.tar"), "-C", dir]);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Array<{ Layers: string[] }>;
  const layers = manifest[0]!.Layers.map((l) => {
    const listing = execFileSync("tar", ["-tvf", join(dir, l)], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return listing.split("\n").filter((line) => line.startsWith("-")).map((line) => {
      const f = line.trim().split(/\s+/);
      return { size: Number(f[2]), path: f.slice(5).join(" ") };
    });
  });
  return { layers, dir };
}

describe.skipIf(!status.ok)("the latchkey image (repository Dockerfile)", () => {
  it("holds only /opt/latchkey (self-contained), /latchkey (the single executable) and /LICENSE (licenses of latchkey, Node and the bundled dependencies), within the size targets", async () => {
    const { layers, dir } = await layerFiles(IMAGES.latchkey);
    const files = layers.flat().map((f) => f.path).filter((p) => !p.endsWith("/")).sort();
    expect(files.filter((p) => !p.startsWith("opt/latchkey/"))).toEqual(["LICENSE", "latchkey"]);
    expect(files.filter((p) => p.startsWith("opt/latchkey/"))).toEqual([
      "opt/latchkey/LICENSE", "opt/latchkey/bin/latchkey",
      "opt/latchkey/lib/PACKAGES", "opt/latchkey/lib/ld-linux-x86-64.so.2", "opt/latchkey/lib/libatomic.so.1", "opt/latchkey/lib/libc.so.6",
      "opt/latchkey/lib/libdl.so.2", "opt/latchkey/lib/libgcc_s.so.1", "opt/latchkey/lib/libm.so.6", "opt/latchkey/lib/libpthread.so.0",
      "opt/latchkey/lib/libstdc++.so.6", "opt/latchkey/share/doc/gcc-12-base/copyright", "opt/latchkey/share/doc/libc6/copyright",
    ]);

    const fs = join(dir, "fs");
    mkdirSync(fs);
    for (const l of (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Array<{ Layers: string[] }>)[0]!.Layers) {
      execFileSync("tar", ["-xf", join(dir, l), "-C", fs]);
    }
    const exe = join(fs, "latchkey");
    expect(statSync(exe).mode & 0o111).not.toBe(0);
    const license = readFileSync(join(fs, "LICENSE"), "utf8");
    expect(license).toMatch(/^latchkey \d+\.\d+\.\d+/);
    expect(license).toContain("Node.js is licensed for use as follows");
    // Every production dependency is bundled into the executable, so each license travels with it.
    const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
    for (const d of deps) expect(license, d).toContain(`\n${d} `);
    const size = statSync(exe).size;
    const gz = gzipSync(readFileSync(exe), { level: 6 }).length;
    console.log(`latchkey in the image: ${(size / 2 ** 20).toFixed(1)} MiB, ${(gz / 2 ** 20).toFixed(1)} MiB gzipped`);
    expect(size).toBeGreaterThan(20 * 2 ** 20); // a real runtime, not a stub
    expect(size).toBeLessThanOrEqual(120 * 2 ** 20);
    expect(gz).toBeLessThanOrEqual(45 * 2 ** 20);
    // The tree's executable looks for its loader and libraries in the tree only.
    const elf = execFileSync("readelf", ["-l", "-d", join(fs, "opt/latchkey/bin/latchkey")], { encoding: "utf8" });
    expect(elf).toContain("[Requesting program interpreter: /opt/latchkey/lib/ld-linux-x86-64.so.2]");
    // RPATH, searched before an LD_LIBRARY_PATH the image may set (portable.test.ts).
    expect(elf).toMatch(/\(RPATH\)\s+Library rpath: \[\/opt\/latchkey\/lib\]/);
    expect(elf).not.toContain("RUNPATH");
    const libs = readdirSync(join(fs, "opt/latchkey/lib")).reduce((n, f) => n + statSync(join(fs, "opt/latchkey/lib", f)).size, 0);
    console.log(`/opt/latchkey/lib: ${(libs / 2 ** 20).toFixed(1)} MiB`);
    expect(libs).toBeLessThanOrEqual(6 * 2 ** 20);
  });

  it("keeps build secrets out of every layer (npm ci got the CA bundle as a build secret)", async () => {
    const tag = uniqueName("deps").toLowerCase();
    tags.push(tag);
    const args = ["build", "-q", "--target", "deps", "--label", LABEL, "-t", tag,
      "--build-arg", "BUILD_BASE=latchkey-local/node-build:bookworm", ROOT];
    const ca = ["/etc/ssl/certs/ca-certificates.crt"].find((f) => { try { return statSync(f).size > 0; } catch { return false; } });
    if (ca) args.splice(1, 0, "--secret", `id=ca,src=${ca}`);
    await dockerOk(args, { timeoutMs: 900_000 });
    const { layers } = await layerFiles(tag);
    const paths = layers.flat();
    expect(paths.some((f) => f.path.startsWith("src/node_modules/"))).toBe(true); // npm ci did run
    expect(paths.filter((f) => /^run\/secrets\//.test(f.path) || (f.path === "root/.npmrc" && f.size > 0) || f.path.startsWith("root/.npm/"))).toEqual([]);
    const history = await dockerOk(["history", "--no-trunc", "--format", "{{.CreatedBy}}", tag]);
    expect(history).not.toContain("BEGIN CERTIFICATE");
  }, 900_000);

  it("its test stage (typecheck and unit tests inside the build image) passes", async () => {
    const r = await docker(["build", "-q", "--target", "test", "--label", LABEL,
      "--build-arg", "BUILD_BASE=latchkey-local/node-build:bookworm", "--build-arg", `DEBIAN_MIRROR=${debianMirror()}`,
      ...(statSync("/etc/ssl/certs/ca-certificates.crt", { throwIfNoEntry: false }) ? ["--secret", "id=ca,src=/etc/ssl/certs/ca-certificates.crt"] : []),
      ROOT], { timeoutMs: 900_000 });
    if (r.code !== 0) throw new Error(`docker build --target test failed (${r.code}):\n${r.stderr.slice(-4000)}`);
    if (r.stdout.trim()) await docker(["rmi", r.stdout.trim()]);
  }, 900_000);
});

describe.skipIf(!status.ok)("shared libraries the executable needs (docs/readme/docker.md)", () => {
  const ctx = join(ROOT, "test", "docker", "fixtures", "minimal-runtime");
  const build = async (target: string) => {
    const tag = uniqueName(`runtime-${target}`).toLowerCase();
    tags.push(tag);
    await dockerOk(["build", "-q", "--target", target, "--label", LABEL, "-t", tag,
      "--build-arg", `LATCHKEY_IMAGE=${IMAGES.latchkey}`, "--build-arg", `LIBS_FROM=${IMAGES.appBase}`, ctx]);
    return tag;
  };

  it("runs on glibc's loader + libc, libm, libdl, libpthread, libstdc++, libgcc_s and libatomic alone", async () => {
    const tag = await build("complete");
    const r = await docker(["run", "--rm", "--label", LABEL, tag, "version"]);
    expect(r.stdout).toMatch(/^latchkey \d/);
    expect(r.code).toBe(0);
    // It also supervises a program in such an image (itself, as the only program there).
    const sup = await docker(["run", "--rm", "--label", LABEL, tag, "--", "/latchkey", "version"]);
    expect(sup.stdout).toMatch(/^latchkey \d/);
    expect(sup.code).toBe(0);
  });

  it("does not start without libatomic.so.1, which Node 26 adds to the list", async () => {
    const tag = await build("no-libatomic");
    const r = await docker(["run", "--rm", "--label", LABEL, tag, "version"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("libatomic.so.1");
  });
});
