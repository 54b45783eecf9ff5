/**
 * The self-contained latchkey: the single executable with the dynamic loader and the shared
 * libraries its Node runtime needs beside it, so that it runs in any Linux image of its
 * architecture (glibc without libatomic, musl, busybox, distroless static, scratch):
 *
 *   /opt/latchkey/bin/latchkey        ELF interpreter /opt/latchkey/lib/ld-linux-*.so.*,
 *                                     RPATH /opt/latchkey/lib
 *   /opt/latchkey/lib/…               glibc's loader, libc, libm, libdl, libpthread, libstdc++,
 *                                     libgcc_s, libatomic (Debian's, build/debs.ts) + PACKAGES
 *   /opt/latchkey/share/doc/…         their copyright files; LICENSE: latchkey's and its bundle's
 *
 * Absolute paths, so the tree has a fixed place: a $ORIGIN-relative library path needs
 * /proc/self/exe to resolve, which a chroot without /proc lacks (measured), and the
 * interpreter path in an ELF file cannot be relative to the file at all. Nothing reaches the
 * app: the paths live in latchkey's own ELF headers, not in LD_LIBRARY_PATH or a preload, so
 * the app (exec'd by path) loads its own interpreter and the image's libc. The libraries are
 * found by their sonames under RPATH, and dlopen("libc.so.6") by src/platform/libc.ts
 * returns the libc already loaded (same soname).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARCH, type Arch, libraryNames, unpackLibraries } from "./debs.ts";

/** Where the tree lives in an image or on a host (the tarballs extract at /). */
export const PREFIX = "/opt/latchkey";

export interface TreeOptions {
  arch: Arch;
  /** The single executable built for `arch` (build/executable.ts). */
  exe: string;
  /** latchkey's license file (scripts/collect-licenses.ts). */
  license: string;
  /** Made empty, then holds opt/latchkey/… */
  stage: string;
  /** Where build/debs.ts keeps the downloaded packages. */
  debCache: string;
}

export function makeTree(o: TreeOptions): string {
  const libs = unpackLibraries(o.arch, o.debCache);
  rmSync(o.stage, { recursive: true, force: true });
  const top = join(o.stage, PREFIX.slice(1));
  for (const d of ["bin", "lib", "share/doc/libc6", "share/doc/gcc-12-base"]) mkdirSync(join(top, d), { recursive: true });
  const exe = join(top, "bin", "latchkey");
  copyFileSync(o.exe, exe);
  // DT_RPATH (--force-rpath), not patchelf's default DT_RUNPATH: glibc searches an RPATH
  // before LD_LIBRARY_PATH and a RUNPATH after it, so with a RUNPATH an image that sets
  // LD_LIBRARY_PATH (CUDA, Oracle client images) made the tree's loader take the image's
  // libc.so.6 (seen: "error while loading shared libraries: /badlib/libc.so.6", the test's
  // stand-in); a mixed glibc does not start, or worse, half works.
  execFileSync("patchelf", ["--set-interpreter", `${PREFIX}/lib/${ARCH[o.arch].loader}`, "--force-rpath", "--set-rpath", `${PREFIX}/lib`, exe]);
  chmodSync(exe, 0o755);
  for (const name of libraryNames(o.arch)) {
    const to = join(top, "lib", name);
    copyFileSync(libs.libraries[name]!, to);
    // The loader is run (as the interpreter, or by hand); the others are only mapped.
    chmodSync(to, name === ARCH[o.arch].loader ? 0o755 : 0o644);
  }
  writeFileSync(join(top, "lib", "PACKAGES"),
    "# The Debian packages these libraries come from (a security update there means: rebuild)\n" + libs.versions);
  for (const [pkg, file] of Object.entries(libs.copyrights)) copyFileSync(file, join(top, "share/doc", pkg, "copyright"));
  copyFileSync(o.license, join(top, "LICENSE"));
  return top;
}

/**
 * Run the tree's latchkey as it will run in an image: in a root that holds nothing but the
 * tree (chroot, as root), or, without root, through its own loader. Returns stdout of
 * `latchkey version`; throws when it does not run.
 */
export function checkTree(stage: string, arch: Arch, env: Record<string, string> = {}): string {
  const top = join(stage, PREFIX.slice(1));
  const r = process.getuid?.() === 0
    ? spawnSync("chroot", [stage, `${PREFIX}/bin/latchkey`, "version"], { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env } })
    : spawnSync(join(top, "lib", ARCH[arch].loader), ["--library-path", join(top, "lib"), join(top, "bin", "latchkey"), "version"], { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0 || !r.stdout.startsWith("latchkey ")) {
    throw new Error(`build: the self-contained ${arch} latchkey does not run (status ${r.status}, signal ${r.signal}): ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`);
  }
  return r.stdout.trim();
}

/** The file list of a tree, for the size report. */
export function treeBytes(stage: string): number {
  const out = execFileSync("du", ["-sb", stage], { encoding: "utf8" });
  return Number(out.split(/\s/)[0]);
}

export function readVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}
