/**
 * Which secrets-dir files are SSH material (installed in ~/.ssh rather than the env), and
 * their name there: `ssh_id_ed25519` → `id_ed25519`, `ssh_known_hosts` → `known_hosts`,
 * `ssh_config` → `config`. Patterns are shell-style globs over file names (`*`, `?`).
 */
export function isSshSecret(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(p).test(name));
}

export function sshInstallName(name: string): string {
  const stripped = name.replace(/^ssh[_-]/, "");
  return stripped === "" ? name : stripped;
}

const cache = new Map<string, RegExp>();
export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    const src = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp(`^${src}$`, "s");
    cache.set(glob, re);
  }
  return re;
}
