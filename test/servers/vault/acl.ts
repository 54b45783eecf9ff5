/**
 * Vault ACL policies as the test server enforces them: path rules with capabilities, where a
 * trailing `*` is a prefix match and `+` matches exactly one path segment (Vault's policy
 * syntax). The most specific matching rule wins, and `deny` anywhere on it refuses.
 */
export type Capability = "create" | "read" | "update" | "delete" | "list" | "sudo" | "deny";

export interface PathRule {
  path: string;
  capabilities: Capability[];
}

export type Policy = PathRule[];

export function ruleMatches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith("*");
  const pat = glob ? pattern.slice(0, -1) : pattern;
  const pSeg = pat.split("/");
  const xSeg = path.split("/");
  if (!glob && pSeg.length !== xSeg.length) return false;
  if (glob && xSeg.length < pSeg.length) return false;
  for (let i = 0; i < pSeg.length; i++) {
    const p = pSeg[i]!;
    const x = xSeg[i]!;
    const last = i === pSeg.length - 1;
    if (p === "+") continue;
    if (glob && last) return x.startsWith(p);
    if (p !== x) return false;
  }
  return true;
}

/** Capabilities the union of `policies` grants on `path` (Vault merges rules across policies). */
export function capabilities(policies: Policy[], path: string): Set<Capability> {
  // Vault picks the most specific match per policy set; approximating with the longest pattern is
  // what matters for tests: an exact rule beats a glob, a longer prefix beats a shorter one.
  let best: PathRule[] = [];
  let bestLen = -1;
  for (const pol of policies) {
    for (const r of pol) {
      if (!ruleMatches(r.path, path)) continue;
      const len = r.path.replace(/\*$/, "").length + (r.path.endsWith("*") ? 0 : 0.5);
      if (len > bestLen) {
        best = [r];
        bestLen = len;
      } else if (len === bestLen) best.push(r);
    }
  }
  const caps = new Set<Capability>();
  for (const r of best) for (const c of r.capabilities) caps.add(c);
  if (caps.has("deny")) return new Set(["deny"]);
  return caps;
}

/** Does the token have any capability on anything under `prefix` (the mount preflight check)? */
export function anyAccessUnder(policies: Policy[], prefix: string): boolean {
  for (const pol of policies) {
    for (const r of pol) {
      if (r.capabilities.includes("deny")) continue;
      const pat = r.path.replace(/\*$/, "");
      if (pat.startsWith(prefix) || prefix.startsWith(pat) || r.path.includes("+")) return true;
    }
  }
  return false;
}
