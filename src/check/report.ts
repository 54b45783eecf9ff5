/**
 * What `latchkey check` prints: for each variable the app would get from a secret, its name,
 * source, length and a short SHA-256 fingerprint — never the value. The fingerprint lets two
 * deployments be compared ("same password?") without showing it; for a guessable value it is
 * still a guessable hash, which is why it is short and why check output is not for sharing.
 */
import { crypto } from "../platform/lazy.ts";
import type { LatchkeyError } from "../errors.ts";
import { KIND_LABEL, type PreparedEnv } from "../env/prepare.ts";
import { fileMode, type SshTarget } from "../ssh/install.ts";
import { join } from "node:path";

export interface CheckReport {
  ok: boolean;
  configFile?: string;
  command?: string;
  user?: string;
  variables: Array<{ name: string; kind: string; source: string; length: number; sha256: string }>;
  ssh: Array<{ path: string; source: string; mode: string; uid: number; gid: number; length: number; sha256: string }>;
  scrubbed: Array<{ name: string; reason: string }>;
  removed: string[];
  ignoredFileVars: string[];
  overrides: Array<{ name: string; winner: string; loser: string }>;
  required: Array<{ name: string; ok: boolean }>;
  errors: Array<{ code: string; exitCode: number; message: string }>;
}

export function fingerprint(value: string | Buffer): string {
  return crypto().createHash("sha256").update(value).digest("hex").slice(0, 12);
}

export function buildReport(p: PreparedEnv, opts: { require: string[]; failures: LatchkeyError[]; ssh: SshTarget; configFile?: string; command?: string; user?: string }): CheckReport {
  return {
    ok: opts.failures.length === 0,
    ...(opts.configFile ? { configFile: opts.configFile } : {}),
    ...(opts.command ? { command: opts.command } : {}),
    ...(opts.user ? { user: opts.user } : {}),
    variables: p.secrets.map((s) => ({
      name: s.name, kind: KIND_LABEL[s.kind], source: s.source, length: Buffer.byteLength(s.value), sha256: fingerprint(s.value),
    })),
    ssh: p.ssh.map((f) => ({
      path: join(opts.ssh.dir, f.name), source: f.source, mode: `0${fileMode(f.name).toString(8)}`, uid: opts.ssh.uid, gid: opts.ssh.gid,
      length: f.bytes.length, sha256: fingerprint(f.bytes),
    })),
    scrubbed: p.scrubbed,
    removed: p.removed,
    ignoredFileVars: p.ignoredFileVars,
    overrides: p.overrides,
    required: opts.require.map((name) => ({ name, ok: p.env[name] !== undefined && p.env[name] !== "" })),
    errors: opts.failures.map(errorJson),
  };
}

export function errorJson(e: LatchkeyError): { code: string; exitCode: number; message: string } {
  return { code: e.code, exitCode: e.exitCode, message: e.message };
}

export function formatText(r: CheckReport): string {
  const out: string[] = [];
  if (r.configFile) out.push(`config file: ${r.configFile}`);
  if (r.command) out.push(`command: ${r.command}${r.user ? ` (as ${r.user})` : ""}`);
  out.push(`variables from secrets: ${r.variables.length}`);
  if (r.variables.length) {
    out.push(...table(["NAME", "SOURCE", "FROM", "LENGTH", "SHA256"],
      r.variables.map((v) => [v.name, v.kind, v.source, String(v.length), v.sha256])));
  }
  if (r.ssh.length) {
    out.push(`ssh files: ${r.ssh.length}`);
    out.push(...table(["PATH", "MODE", "OWNER", "FROM", "LENGTH", "SHA256"],
      r.ssh.map((f) => [f.path, f.mode, `${f.uid}:${f.gid}`, f.source, String(f.length), f.sha256])));
  }
  if (r.removed.length) out.push(`removed from the app's env (VAR_FILE read): ${r.removed.join(", ")}`);
  if (r.ignoredFileVars.length) out.push(`not read (file outside the secrets dirs; see --file-vars): ${r.ignoredFileVars.join(", ")}`);
  if (r.scrubbed.length) {
    out.push(`scrubbed from the app's env (--keep-env to keep):`);
    for (const s of r.scrubbed) out.push(`  ${s.name}  (${s.reason})`);
  }
  for (const o of r.overrides) out.push(`override: ${o.name} from ${o.winner} wins over ${o.loser}`);
  if (r.required.length) out.push(`required: ${r.required.map((q) => `${q.name} ${q.ok ? "ok" : "MISSING"}`).join(", ")}`);
  for (const e of r.errors) out.push(`error: ${e.message}`);
  out.push(r.ok ? "ok: the app would start" : `FAILED: the app would not start (exit ${r.errors[0]?.exitCode})`);
  return out.join("\n") + "\n";
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ");
  return [line(head), ...rows.map(line)];
}
