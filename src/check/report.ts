/**
 * What `latchkey check` prints: for each variable the app would get from a secret, its name,
 * source, length and a keyed fingerprint — never the value. The fingerprint answers "same
 * secret?" without showing it and cannot be searched offline (fingerprint.ts says how and
 * across what it compares). Names, sources and paths come from the environment and the
 * secrets dirs: the text form escapes their control characters, as the logger does.
 */
import type { LatchkeyError } from "../errors.ts";
import { escapeText } from "../log/logger.ts";
import type { Fingerprinter, KeyKind } from "./fingerprint.ts";
import { KIND_LABEL, type PreparedEnv } from "../env/prepare.ts";
import { fileMode, type SshTarget } from "../ssh/install.ts";
import { join } from "node:path";

export interface CheckReport {
  ok: boolean;
  configFile?: string;
  command?: string;
  user?: string;
  /** "per-run": fingerprints compare within this report only; "file": across runs given the same --fingerprint-key-file. */
  fingerprintKey: KeyKind;
  variables: Array<{ name: string; kind: string; source: string; length: number; fingerprint: string }>;
  ssh: Array<{ path: string; source: string; mode: string; uid: number; gid: number; length: number; fingerprint: string }>;
  scrubbed: Array<{ name: string; reason: string }>;
  removed: string[];
  ignoredFileVars: string[];
  overrides: Array<{ name: string; winner: string; loser: string }>;
  required: Array<{ name: string; ok: boolean }>;
  errors: Array<{ code: string; exitCode: number; message: string }>;
}

export function buildReport(p: PreparedEnv, opts: { require: string[]; failures: LatchkeyError[]; ssh: SshTarget; fingerprint: Fingerprinter; configFile?: string; command?: string; user?: string }): CheckReport {
  const fp = opts.fingerprint;
  return {
    ok: opts.failures.length === 0,
    ...(opts.configFile ? { configFile: opts.configFile } : {}),
    ...(opts.command ? { command: opts.command } : {}),
    ...(opts.user ? { user: opts.user } : {}),
    fingerprintKey: fp.kind,
    variables: p.secrets.map((s) => ({
      name: s.name, kind: KIND_LABEL[s.kind], source: s.source, length: Buffer.byteLength(s.value), fingerprint: fp.of(s.value),
    })),
    ssh: p.ssh.map((f) => ({
      path: join(opts.ssh.dir, f.name), source: f.source, mode: `0${fileMode(f.name).toString(8)}`, uid: opts.ssh.uid, gid: opts.ssh.gid,
      length: f.bytes.length, fingerprint: fp.of(f.bytes),
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

/** Give it a report whose strings are already redacted (redactReport): escaping comes after. */
export function formatText(r: CheckReport): string {
  return formatLines(r).map(escapeText).join("\n") + "\n";
}

/**
 * The report with every string redacted on its own, raw: the redactor knows a secret by its
 * raw bytes, so a secret holding an ESC must meet it before the text form escapes it. Numbers
 * (lengths, uid, exit codes) and fingerprints are latchkey's own and never redacted: a secret
 * `1234` turned `"length": 1234` into `"length": [redacted]`, which is not JSON.
 */
export function redactReport(r: CheckReport, redact: (s: string) => string): CheckReport {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (typeof v === "string" && k !== "fingerprint" ? redact(v) : v))) as CheckReport;
}

function formatLines(r: CheckReport): string[] {
  const out: string[] = [];
  if (r.configFile) out.push(`config file: ${r.configFile}`);
  if (r.command) out.push(`command: ${r.command}${r.user ? ` (as ${r.user})` : ""}`);
  out.push(`variables from secrets: ${r.variables.length}`);
  if (r.variables.length) {
    out.push(...table(["NAME", "SOURCE", "FROM", "LENGTH", "FINGERPRINT"],
      r.variables.map((v) => [v.name, v.kind, v.source, String(v.length), v.fingerprint])));
  }
  if (r.ssh.length) {
    out.push(`ssh files: ${r.ssh.length}`);
    out.push(...table(["PATH", "MODE", "OWNER", "FROM", "LENGTH", "FINGERPRINT"],
      r.ssh.map((f) => [f.path, f.mode, `${f.uid}:${f.gid}`, f.source, String(f.length), f.fingerprint])));
  }
  if (r.variables.length || r.ssh.length) {
    out.push(r.fingerprintKey === "file"
      ? "fingerprints: HMAC-SHA256 under --fingerprint-key-file; equal across runs given the same key"
      : "fingerprints: HMAC-SHA256 under a key made for this run; compare within this output only (--fingerprint-key-file to compare runs)");
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
  return out;
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ");
  return [line(head), ...rows.map(line)];
}
