/**
 * Write-style `vault://` references: endpoints that hand out a secret in answer to a write,
 * with parameters — `pki/issue/ROLE` (a certificate and its key), `sys/tools/random`,
 * `transit/datakey/plaintext/KEY`, `aws/sts/ROLE`. Vault Agent's templates write to them with
 * `{{ with secret "pki/issue/web" "common_name=app.example.com" }}`; here the reference says it:
 *
 *   vault://pki/issue/web?write&common_name=app.example.com&alt_names=a.example.com&ttl=72h#certificate
 *
 * `write` (no value) marks the reference; every other parameter is a field of the request
 * body, as a string (Vault converts `true`, `72h`, `1,2`). References that differ only in their
 * `#key` (and the order of their parameters) are one write: `#certificate`, `#private_key` and
 * `#ca_chain` of the same issue come from one call, so they always belong together.
 *
 * A written secret is never written again early: it is held like a non-renewable lease
 * (watch/source-cache.ts) that ends when the answer says it expires (`expiration`, PKI) or,
 * for answers without one, at its `lease_duration`; rotation writes again at two thirds of
 * that, and the rotation action runs with the new value. An answer with neither is held for the
 * life of the container (a poll never re-writes it: each write mints something new).
 */
import { ExitCode, LatchkeyError } from "../../errors.ts";
import type { FetchedSecret, Reference } from "../source.ts";
import { VaultHttpError, type VaultClient } from "./client.ts";
import { encodePath } from "./read.ts";

/** How long an answer without an expiry is held. */
const HOLD_SECONDS = 10 * 365 * 86400;

/** The parameter that makes a reference a write. */
export const WRITE_PARAM = "write";
/** The id prefix of a written secret's stand-in lease (never renewed or revoked: it is not Vault's). */
export const WRITE_LEASE_PREFIX = "write:";

let planOnly = false;
/**
 * `latchkey check`: a write is reported ("would write PATH"), never made — it would mint a
 * certificate, or change data, for a run that only looks.
 */
export function planWritesOnly(): void {
  planOnly = true;
}
export function writesPlannedOnly(): boolean {
  return planOnly;
}

/**
 * A write not made (check): an empty value (under `#key`, an empty field) that says why. An
 * empty value registers nothing with the redactor, so the report's own text stays readable.
 */
export function plannedWrite(ref: Reference, path: string): FetchedSecret {
  const value = ref.key === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify({ [ref.key]: "" }), "utf8");
  return { ref, value, planned: `would write ${path}` };
}

export function isWriteReference(ref: Reference): boolean {
  return Object.hasOwn(ref.params, WRITE_PARAM);
}

export function isWriteLease(id: string): boolean {
  return id.startsWith(WRITE_LEASE_PREFIX);
}

/** The request body: every parameter but `write`. */
export function writeBody(ref: Reference): Record<string, string> {
  if (ref.params[WRITE_PARAM] !== "") {
    throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: '${WRITE_PARAM}' takes no value (write it as ?${WRITE_PARAM}&field=value...)`);
  }
  const body: Record<string, string> = {};
  for (const [k, v] of Object.entries(ref.params)) if (k !== WRITE_PARAM) body[k] = v;
  return body;
}

/** One write per path and body: the key that groups references into one call. */
export function writeKey(path: string, body: Record<string, string>): string {
  return `write:${path}?${Object.keys(body).sort().map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(body[k]!)}`).join("&")}`;
}

export async function writeSecret(c: VaultClient, ref: Reference, path: string, body: Record<string, string>, deadline: number, policies: string[], now: () => number = Date.now): Promise<FetchedSecret> {
  let r: Record<string, unknown> | null;
  try {
    r = await c.call("POST", encodePath(path), { body, deadline });
  } catch (e) {
    throw explainWrite(e, ref, path, policies);
  }
  const data = (r?.data ?? null) as Record<string, unknown> | null;
  if (!data) throw new LatchkeyError("vault-missing", ExitCode.NO_INPUT, `${ref.raw}: writing '${path}' returned no data`);
  // `#ca_chain` as the PEM file a server is given, not a JSON list.
  if (Array.isArray(data.ca_chain) && data.ca_chain.every((p) => typeof p === "string")) {
    data.ca_chain = (data.ca_chain as string[]).map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
  }
  const out: FetchedSecret = { ref, value: Buffer.from(JSON.stringify(data), "utf8") };
  const leaseId = typeof r?.lease_id === "string" && r.lease_id !== "" ? r.lease_id : undefined;
  const expiration = typeof data.expiration === "number" ? data.expiration : undefined;
  const serial = typeof data.serial_number === "string" ? data.serial_number : undefined;
  const seconds = expiration !== undefined ? Math.floor(expiration - now() / 1000) : Number(r?.lease_duration ?? 0);
  const id = `${WRITE_LEASE_PREFIX}${serial ?? leaseId ?? `${path}@${now()}`}`;
  // A stand-in lease: non-renewable, ending at the certificate's expiry, so the cache holds
  // the value and rotation writes again at two thirds of it (watch/source-cache.ts). Without
  // an expiry, ten years: held for the life of the container, never re-written by a poll.
  out.lease = { id, durationSec: seconds > 0 ? seconds : HOLD_SECONDS, renewable: false };
  out.version = id;
  return out;
}

function explainWrite(e: unknown, ref: Reference, path: string, policies: string[]): unknown {
  if (!(e instanceof VaultHttpError)) {
    if (e instanceof LatchkeyError) return new LatchkeyError(e.code, e.exitCode, `${ref.raw}: ${e.message}`);
    return e;
  }
  if (e.status === 403) {
    return new LatchkeyError("vault-denied", ExitCode.NO_PERM,
      `${ref.raw}: permission denied writing '${path}' (403): the token's policies (${policies.join(", ") || "none"}) do not grant 'update' (or 'create') on this path`);
  }
  if (e.status === 400 || e.status === 404 || e.status === 405) {
    // Vault's reason names the field at fault ("common name not allowed by this role"); it
    // quotes the request's parameters, which are configuration, never a secret.
    const why = e.errors.map((x) => x.replace(/\s+/g, " ").trim()).join("; ");
    return new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: Vault refused the write to '${path}' (${e.status})${why ? `: ${why}` : ""}`);
  }
  return new LatchkeyError("vault", ExitCode.TEMP_FAIL, `${ref.raw}: writing '${path}' failed: ${e.message}`);
}
