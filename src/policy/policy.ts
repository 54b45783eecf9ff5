/**
 * The reference allow-list for security teams: which references an image's env or config may
 * use, per provider. It can live in the config file (`policy:`) and in a separate file mounted
 * by the platform (`--policy FILE` / LATCHKEY_POLICY), so that an app config or a compose
 * override cannot widen it: when both exist, a reference must pass both. A reference outside
 * the policy fails closed, before anything is fetched, naming the rule that refused it.
 *
 *   policy:
 *     unlisted: deny            # schemes with no `allow` entry: deny (default) or allow
 *     allow:
 *       vault: ["secret/data/payments/*", "database/creds/payments-*"]
 *       aws-sm: ["prod/payments/**"]
 *     deny:
 *       vault: ["secret/data/payments/admin"]
 *     write:
 *       vault: ["pki/issue/payments"]
 *
 * Patterns: `*` matches within one path segment (no `/`), `**` matches across segments, `?`
 * one character; everything else is literal. Deny rules win over allow rules.
 *
 * A write-style reference (`vault://pki/issue/web?write&...`) is a POST: with the credentials
 * the platform gave the container, `secret/data/x?write&...` would overwrite KV data. So a
 * write is never allowed by `allow` or `unlisted: allow`, only by a `write` rule (deny rules
 * still win); a policy without one refuses every write.
 *
 * A rule is only as good as the name it is matched against (issue 12, finding 3). Vault's
 * HTTP path is normalised after the check (`x/../admin` is `admin` to Vault), so a reference
 * whose path has a `.`, `..` or empty segment, percent-encoded or not, is refused outright
 * rather than normalised: the name matched is the name requested. A file is matched on its
 * real path (symlinks resolved) and read so that it cannot change after the check (see
 * sources/file/index.ts). An AWS secret written as a full or partial ARN is matched by its
 * name as well.
 */
import { yaml } from "../platform/lazy.ts";
import { readFileFor } from "../sources/file/read.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";
import type { Reference } from "../sources/source.ts";

export interface PolicyRule {
  kind: "allow" | "deny" | "write";
  scheme: string;
  pattern: string;
  re: RegExp;
  /** Where the rule was written, e.g. `/etc/latchkey/policy.yaml: allow.vault[0]`. */
  label: string;
}

export interface Policy {
  source: string;
  unlisted: "deny" | "allow";
  rules: PolicyRule[];
}

export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

const bad = (source: string, where: string, msg: string) =>
  new LatchkeyError("policy", ExitCode.CONFIG, `${source}: ${where}: ${msg}`);

/** Validate a parsed `policy:` object (from the config file or a policy file). */
export function parsePolicy(raw: unknown, source: string): Policy {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad(source, "policy", "expected a mapping with 'allow', 'deny' and 'unlisted'");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["allow", "deny", "write", "unlisted"].includes(k)) throw bad(source, `policy.${k}`, "unknown key (expected: allow, deny, write, unlisted)");
  const unlisted = o.unlisted ?? "deny";
  if (unlisted !== "deny" && unlisted !== "allow") throw bad(source, "policy.unlisted", `invalid value '${String(unlisted)}': expected deny or allow`);
  const rules: PolicyRule[] = [];
  for (const kind of ["deny", "allow", "write"] as const) {
    const sec = o[kind];
    if (sec === undefined || sec === null) continue;
    if (typeof sec !== "object" || Array.isArray(sec)) throw bad(source, `policy.${kind}`, "expected a mapping from scheme to a list of patterns, e.g. vault: [\"secret/data/app/*\"]");
    for (const [scheme, list] of Object.entries(sec as Record<string, unknown>)) {
      if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw bad(source, `policy.${kind}.${scheme}`, "not a reference scheme (e.g. vault, aws-sm, file)");
      const items = typeof list === "string" ? [list] : list;
      if (!Array.isArray(items)) throw bad(source, `policy.${kind}.${scheme}`, "expected a list of patterns");
      items.forEach((p, i) => {
        if (typeof p !== "string" || p === "") throw bad(source, `policy.${kind}.${scheme}[${i}]`, "expected a non-empty pattern");
        rules.push({ kind, scheme, pattern: p, re: globToRegExp(p), label: `${source}: ${kind}.${scheme}[${i}] '${p}'` });
      });
    }
  }
  return { source, unlisted, rules };
}

/** Policy and config files are small; a bigger one is a mistake (or an attack on memory). */
export const POLICY_MAX_SIZE = 1024 * 1024;

/**
 * Read a policy file (YAML or JSON); its policy is the whole file or its `policy:` key. An
 * unreadable file is a config error (78), or "not permitted" (77) when the reason is EACCES:
 * a policy that cannot be read must not be mistaken for one that does not exist.
 */
export function readPolicyFile(path: string, from: string): Policy {
  const text = readFileFor(path, POLICY_MAX_SIZE, (why, code) =>
    new LatchkeyError("policy", code === "EACCES" || code === "EPERM" ? ExitCode.NO_PERM : ExitCode.CONFIG,
      `${from}: cannot read policy file '${path}': ${why}${code === "EACCES" || code === "EPERM" ? ` (latchkey runs as uid ${process.getuid?.()})` : ""}`)).toString("utf8");
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    throw new LatchkeyError("policy", ExitCode.CONFIG, `${path}: not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  const inner = doc && typeof doc === "object" && !Array.isArray(doc) && "policy" in doc ? (doc as { policy: unknown }).policy : doc;
  return parsePolicy(inner, path);
}

/**
 * Refuse a reference whose path has a `.`, `..` or empty segment (after percent-decoding:
 * Reference.locator is decoded). For file:// the leading `/` of an absolute path and the
 * leading `./` of the documented relative form are not segments; for vault:// leading and
 * trailing slashes are dropped before the request, so they are not either.
 */
export function checkCanonical(ref: Reference, where: string): void {
  const problem = pathProblem(ref.scheme === "file" ? ref.locator.replace(/^\.?\//, "") : ref.scheme === "vault" ? ref.locator.replace(/^\/+|\/+$/g, "") : ref.locator);
  if (problem) {
    throw new LatchkeyError("reference", ExitCode.CONFIG,
      `${where}: ${problem} in the path '${ref.locator}'; write the path without '.', '..' or empty segments (the policy must see the path that is read)`);
  }
}

/** Is this a path with `.`, `..` or empty segments? Returns what is wrong, or undefined. */
export function pathProblem(path: string): string | undefined {
  for (const seg of path.split("/")) {
    if (seg === "..") return "a '..' segment";
    if (seg === ".") return "a '.' segment";
    if (seg === "") return "an empty segment ('//' or a trailing '/')";
  }
  return undefined;
}

/**
 * The names a reference is matched under. aws-sm: a full ARN (`...:secret:prod/db-AbCdEf`,
 * the last six characters AWS's suffix) or a partial one (`...:secret:prod/db`) is the
 * secret `prod/db`: both the name with and without a suffix-like ending are candidates, so a
 * deny rule on the name catches every spelling (and a name that merely ends like a suffix is
 * denied too: failing closed).
 */
export function policyNames(ref: Reference): string[] {
  if (ref.scheme !== "aws-sm") return [ref.locator];
  const m = /^arn:aws[\w-]*:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(ref.locator);
  if (!m) return [ref.locator];
  const name = m[1]!;
  const bare = /^(.+)-[A-Za-z0-9]{6}$/.exec(name)?.[1];
  return bare ? [name, bare] : [name];
}

/**
 * Throw unless every policy allows the reference. `candidates` are the names the reference
 * resolves to (for Vault: the path as written and the API path, e.g. secret/app and
 * secret/data/app; for an AWS ARN: the name with and without the suffix); a deny rule
 * matching any candidate refuses. An allow rule must match one of `allowCandidates` (by
 * default the same names; for files, the real path only).
 */
export function checkReference(policies: readonly Policy[], ref: Reference, candidates: readonly string[] = policyNames(ref), where = ref.raw, allowCandidates: readonly string[] = candidates): void {
  for (const p of policies) {
    const mine = p.rules.filter((r) => r.scheme === ref.scheme);
    const deny = mine.find((r) => r.kind === "deny" && candidates.some((c) => r.re.test(c)));
    if (deny) throw new LatchkeyError("policy-denied", ExitCode.NO_PERM, `${where}: refused by policy rule ${deny.label}`);
    const allows = mine.filter((r) => r.kind === "allow");
    if (allows.length === 0) {
      if (p.unlisted === "allow") continue;
      throw new LatchkeyError("policy-denied", ExitCode.NO_PERM, `${where}: refused by policy ${p.source}: no '${ref.scheme}' references are allowed (policy.allow has no '${ref.scheme}' entry and policy.unlisted is deny)`);
    }
    if (!allows.some((r) => allowCandidates.some((c) => r.re.test(c)))) {
      throw new LatchkeyError("policy-denied", ExitCode.NO_PERM,
        `${where}: refused by policy ${p.source}: '${allowCandidates[allowCandidates.length - 1]}' matches none of policy.allow.${ref.scheme} (${allows.map((r) => `'${r.pattern}'`).join(", ")})`);
    }
  }
}

/**
 * Throw unless every policy explicitly allows this write (`policy.write.SCHEME`). Deny rules
 * win; `allow` and `unlisted: allow` do not count: reading a path is not writing it.
 */
export function checkWrite(policies: readonly Policy[], ref: Reference, path: string, where = ref.raw): void {
  for (const p of policies) {
    const mine = p.rules.filter((r) => r.scheme === ref.scheme);
    const deny = mine.find((r) => r.kind === "deny" && r.re.test(path));
    if (deny) throw new LatchkeyError("policy-denied", ExitCode.NO_PERM, `${where}: refused by policy rule ${deny.label}`);
    const writes = mine.filter((r) => r.kind === "write");
    if (!writes.some((r) => r.re.test(path))) {
      throw new LatchkeyError("policy-denied", ExitCode.NO_PERM,
        `${where}: refused by policy ${p.source}: a write to '${path}' needs a policy.write.${ref.scheme} rule ` +
          `(${writes.length ? `it matches none of ${writes.map((r) => `'${r.pattern}'`).join(", ")}` : "there is none"}; reads allowed by policy.allow do not allow writes)`);
    }
  }
}
