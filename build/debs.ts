/**
 * The dynamic loader and the shared libraries the Node runtime inside latchkey needs, per
 * architecture, taken from Debian's own packages (`apt-get download`, unpacked with `dpkg-deb
 * -x`; nothing is installed), so that a self-contained latchkey needs nothing from the image it
 * is copied into (build/tree.ts).
 *
 * The packages are the build machine's apt candidates (bookworm: glibc 2.36, GCC 12's runtime);
 * their versions go into the tree (lib/PACKAGES), which is how a glibc security update is
 * noticed and shipped: rebuild. For arm64 apt needs the foreign architecture
 * (scripts/setup-system: dpkg --add-architecture arm64 && apt-get update).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Arch = "x64" | "arm64";
export const ARCHES: readonly Arch[] = ["x64", "arm64"];

export interface ArchInfo {
  /** Debian's name for it. */
  deb: string;
  /** Debian's multiarch triplet: where the libraries sit inside the packages. */
  triplet: string;
  /** The dynamic loader's file name (the ELF interpreter; its soname too). */
  loader: string;
  /** `uname -m` */
  machine: string;
}

export const ARCH: Readonly<Record<Arch, ArchInfo>> = {
  x64: { deb: "amd64", triplet: "x86_64-linux-gnu", loader: "ld-linux-x86-64.so.2", machine: "x86_64" },
  arm64: { deb: "arm64", triplet: "aarch64-linux-gnu", loader: "ld-linux-aarch64.so.1", machine: "aarch64" },
};

/**
 * The Debian packages holding what the runtime links against (readelf -d: NEEDED), and
 * gcc-12-base, which holds the copyright file the three GCC runtime packages point to.
 */
export const PACKAGES = ["libc6", "libstdc++6", "libgcc-s1", "libatomic1", "gcc-12-base"] as const;

/**
 * What the runtime needs at run time: its NEEDED entries and the loader. glibc ≥ 2.34 has the
 * files and dns NSS modules inside libc.so.6 itself, so host lookups (getaddrinfo for a Vault
 * or AWS host name) need no libnss_*.so beside it; user and group names latchkey reads from
 * /etc/passwd and /etc/group itself (src/privileges/identity.ts), never through NSS.
 */
export function libraryNames(arch: Arch): string[] {
  return [ARCH[arch].loader, "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "libstdc++.so.6", "libgcc_s.so.1", "libatomic.so.1"];
}

export interface Unpacked {
  /** The packages unpacked over each other, as an arm64/amd64 root would hold them. */
  root: string;
  /** `package version` per line, sorted. */
  versions: string;
  /** Each library's real file (symlinks resolved) by its soname. */
  libraries: Record<string, string>;
  /** Each package's copyright file (the licenses shipped with the libraries). */
  copyrights: Record<string, string>;
}

/**
 * Download (once; kept in `cache`) and unpack the packages for `arch`. The download is skipped
 * when the .deb files of the current apt candidates are already there.
 */
export function unpackLibraries(arch: Arch, cache: string): Unpacked {
  const a = ARCH[arch];
  const dir = join(cache, a.deb);
  const debs = join(dir, "debs");
  mkdirSync(debs, { recursive: true });
  const wanted = PACKAGES.map((p) => `${p}:${a.deb}`);
  // The candidate versions first: a .deb already here is reused only when it is still the one
  // apt would fetch, so the tree follows the machine's Debian updates.
  let policy: string;
  try {
    policy = execFileSync("apt-cache", ["policy", ...wanted], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`build: apt-cache policy ${wanted.join(" ")} failed (is apt here? for arm64: scripts/setup-system release): ${String(e)}`);
  }
  const versions: Record<string, string> = {};
  let current = "";
  for (const line of policy.split("\n")) {
    const pkg = /^(\S+):$/.exec(line);
    if (pkg) current = pkg[1]!.replace(/:.*$/, "");
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand && current) versions[current] = cand[1]!;
  }
  for (const p of PACKAGES) {
    if (!versions[p] || versions[p] === "(none)") {
      throw new Error(`build: apt knows no ${p}:${a.deb} (for arm64 run scripts/setup-system release: dpkg --add-architecture arm64 && apt-get update)`);
    }
  }
  // apt-get download names files PKG_VERSION_ARCH.deb, with ':' (an epoch) as %3a.
  const debFile = (p: string) => join(debs, `${p}_${versions[p]!.replace(/:/g, "%3a")}_${a.deb}.deb`);
  const missing = PACKAGES.filter((p) => !existsSync(debFile(p)));
  if (missing.length) {
    for (const f of readdirSync(debs)) rmSync(join(debs, f));
    execFileSync("apt-get", ["download", "-q", ...PACKAGES.map((p) => `${p}:${a.deb}=${versions[p]}`)], { cwd: debs, stdio: ["ignore", "ignore", "inherit"] });
  }
  const root = join(dir, "root");
  const stamp = join(root, ".versions");
  const versionText = PACKAGES.map((p) => `${p}:${a.deb} ${versions[p]}`).sort().join("\n") + "\n";
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== versionText) {
    const fresh = `${root}.new`;
    rmSync(fresh, { recursive: true, force: true });
    mkdirSync(fresh);
    for (const p of PACKAGES) execFileSync("dpkg-deb", ["-x", debFile(p), fresh]);
    writeFileSync(join(fresh, ".versions"), versionText);
    rmSync(root, { recursive: true, force: true });
    renameSync(fresh, root);
  }
  const libraries: Record<string, string> = {};
  for (const name of libraryNames(arch)) {
    const found = [join(root, "lib", a.triplet, name), join(root, "usr/lib", a.triplet, name)].find((p) => existsSync(p));
    if (!found) throw new Error(`build: ${name} is in none of ${PACKAGES.join(", ")} (${a.deb})`);
    libraries[name] = realpathSync(found);
  }
  const copyrights: Record<string, string> = {};
  for (const p of ["libc6", "gcc-12-base"]) copyrights[p] = join(root, "usr/share/doc", p, "copyright");
  return { root, versions: versionText, libraries, copyrights };
}
