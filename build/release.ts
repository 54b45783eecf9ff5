/**
 * npm run release: for each architecture, the self-contained latchkey (build/tree.ts) as a
 * tarball that extracts at / into /opt/latchkey, and SHA256SUMS:
 *
 *   dist/release/latchkey-VERSION-linux-x64.tar.gz
 *   dist/release/latchkey-VERSION-linux-arm64.tar.gz
 *   dist/release/SHA256SUMS
 *   dist/release/linux-ARCH/latchkey              the single executable (glibc images)
 *   dist/release/linux-ARCH/tree/opt/latchkey/…   what the tarball holds (the Dockerfile copies it)
 *
 *   node build/release.ts [--arch x64|arm64]... [--no-tar]
 *
 * Reproducible: the same commit, Debian packages and tools give the same bytes. Every entry
 * has the commit's time (SOURCE_DATE_EPOCH when set), owner 0:0, fixed modes, sorted names, no
 * atime/ctime; gzip stores no name or time. The arm64 build runs its runtime under qemu-user
 * (scripts/setup-system release).
 */
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ARCHES, type Arch } from "./debs.ts";
import { buildExecutable } from "./executable.ts";
import { checkTree, makeTree, readVersion, treeBytes } from "./tree.ts";

const root = join(import.meta.dirname, "..");
const out = join(root, "dist", "release");

const { values } = parseArgs({ options: { arch: { type: "string", multiple: true }, "no-tar": { type: "boolean" } } });
const arches = (values.arch ?? [...ARCHES]) as Arch[];
for (const a of arches) {
  if (!ARCHES.includes(a)) {
    console.error(`release: unknown --arch '${a}' (${ARCHES.join(", ")})`);
    process.exit(2);
  }
}

function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const r = spawnSync("git", ["-C", root, "log", "-1", "--format=%ct"], { encoding: "utf8" });
  // No git (a Docker build context): a fixed time rather than today's.
  return r.status === 0 && r.stdout.trim() ? Number(r.stdout.trim()) : 0;
}

const version = readVersion(root);
const epoch = sourceDateEpoch();
mkdirSync(out, { recursive: true });
const license = join(out, "LICENSE");
execFileSync(process.execPath, [join(root, "scripts/collect-licenses.ts"), license], { stdio: "inherit" });

const sums: string[] = [];
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
try {
  for (const arch of arches) {
    const dir = join(out, `linux-${arch}`);
    const t0 = performance.now();
    const built = await buildExecutable({ dir, name: "latchkey", arch });
    const stage = join(dir, "tree");
    makeTree({ arch, exe: built.exe, license, stage, debCache: join(root, ".cache", "debs") });
    checkTree(stage, arch);
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    if (values["no-tar"]) {
      console.log(`release: ${arch}: dist/release/linux-${arch}/tree ${mb(treeBytes(stage))} MB (${secs} s)`);
      continue;
    }
    const name = `latchkey-${version}-linux-${arch}.tar.gz`;
    const tarball = join(out, name);
    // GNU tar and gzip -n: the options that make an archive a function of its files alone.
    const tar = execFileSync("tar", [
      "-C", stage, "--sort=name", `--mtime=@${epoch}`, "--owner=0", "--group=0", "--numeric-owner",
      "--mode=go-w", "--format=posix", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
      "-cf", "-", "opt/latchkey",
    ], { maxBuffer: 1 << 30 });
    const gz = execFileSync("gzip", ["-9", "-n"], { input: tar, maxBuffer: 1 << 30 });
    writeFileSync(`${tarball}.new`, gz);
    renameSync(`${tarball}.new`, tarball);
    sums.push(`${createHash("sha256").update(gz).digest("hex")}  ${name}`);
    console.log(`release: dist/release/${name.padEnd(36)} ${mb(statSync(tarball).size).padStart(5)} MB gzipped, ${mb(treeBytes(stage)).padStart(5)} MB unpacked (${secs} s)`);
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
if (sums.length) {
  // Sums of the tarballs this run made, with any other architecture's already there.
  const file = join(out, "SHA256SUMS");
  let old: string[] = [];
  try {
    old = readFileSync(file, "utf8").split("\n").filter((l) => l && !sums.some((s) => s.slice(66) === l.slice(66)));
  } catch { /* first run */ }
  writeFileSync(file, [...old, ...sums].sort((a, b) => a.slice(66).localeCompare(b.slice(66))).join("\n") + "\n");
}
rmSync(license);
