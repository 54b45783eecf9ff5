/**
 * The result of one probe attempt, and how a failure is classified. The classification is
 * what the gate report shows ("refused", "timeout", "status 503", "DNS") and what decides
 * whether waiting longer can help.
 */
export type Reason =
  | "ok"
  | "refused"
  | "timeout"
  | "dns"
  | "status"
  | "body"
  | "tls"
  | "reset"
  | "unreachable"
  | "missing"
  | "denied"
  | "error";

export interface Attempt {
  ok: boolean;
  reason: Reason;
  /** One short phrase, e.g. "connection refused", "status 503", "name db not found (ENOTFOUND)". */
  detail: string;
  /** Can a later attempt succeed? False for misconfiguration that time will not fix. */
  retryable: boolean;
}

export const passed = (detail: string): Attempt => ({ ok: true, reason: "ok", detail, retryable: false });
export const failed = (reason: Reason, detail: string, retryable = true): Attempt => ({ ok: false, reason, detail, retryable });

/**
 * Classify a socket, DNS or TLS error.
 *
 * DNS: in Compose and Kubernetes a service name often does not resolve until its container
 * or endpoints exist, so ENOTFOUND (NXDOMAIN) is as temporary as EAI_AGAIN (resolver busy)
 * within the gate's deadline. Certificate errors are not retried: a wrong CA does not fix
 * itself, and failing at once with the reason beats a timeout that hides it.
 */
export function classifyError(e: unknown, host?: string): Attempt {
  const err = unwrap(e);
  const code = err?.code ?? "";
  const name = host ? ` ${host}` : "";
  switch (code) {
    case "ECONNREFUSED":
      return failed("refused", "connection refused");
    case "ENOTFOUND":
      return failed("dns", `DNS: name${name} not found (ENOTFOUND)`);
    case "EAI_AGAIN":
      return failed("dns", `DNS: name${name} could not be resolved yet (EAI_AGAIN)`);
    case "EAI_FAIL":
    case "ENODATA":
    case "ESERVFAIL":
    case "ECONNREFUSED_DNS":
      return failed("dns", `DNS: lookup of${name} failed (${code})`);
    case "ETIMEDOUT":
    case "ETIMEOUT":
    case "ABORT_ERR":
      return failed("timeout", "timed out");
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
    case "ERR_STREAM_PREMATURE_CLOSE":
    case "HPE_INVALID_CONSTANT":
      return failed("reset", `connection closed before an answer (${code})`);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
      return failed("unreachable", `host unreachable (${code})`);
    case "ENOENT":
      return failed("missing", "no such file or socket");
    case "ENOTSOCK":
    case "ENOTDIR":
      return failed("missing", `not a socket (${code})`);
    case "EACCES":
    case "EPERM":
      return failed("denied", `permission denied (${code})`);
  }
  // Node's altname message quotes the names in the peer's certificate: text the peer chose,
  // which would reach the gate report and the status endpoint (through the redactor: an
  // oracle for whoever serves the certificate). Our own host name says the same thing.
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return failed("tls", `TLS: the certificate does not name${name || " this host"} (${code})`, false);
  if (isTlsCode(code)) return failed("tls", `TLS: ${shortMessage(err)} (${code})`, false);
  return failed("error", code ? `${shortMessage(err)} (${code})` : shortMessage(err));
}

/** Error codes DNS may report: for tests and for callers that want to know "was it DNS?". */
export function isDnsCode(code: string): boolean {
  return code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "ENODATA" || code === "ESERVFAIL";
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.includes("CERT") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" ||
    code === "SELF_SIGNED_CERT_IN_CHAIN"
  );
}

type CodedError = Error & { code?: string };

/**
 * Happy eyeballs (net's autoSelectFamily) reports an AggregateError when every address
 * failed (e.g. localhost → ::1 and 127.0.0.1 both refused); the first error says why.
 */
function unwrap(e: unknown): CodedError | undefined {
  if (e instanceof AggregateError && e.errors.length > 0) {
    const first = e.errors[0] as CodedError;
    return { ...first, name: first.name, message: first.message, code: (e as CodedError).code ?? first.code };
  }
  if (e instanceof Error) return e as CodedError;
  return undefined;
}

function shortMessage(err: CodedError | undefined): string {
  if (!err) return "unknown error";
  return (err.message.split("\n")[0] ?? "").replace(/^(connect|getaddrinfo|read|write) /, "").slice(0, 200) || err.name;
}
