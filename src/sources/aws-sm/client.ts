/**
 * A thin Secrets Manager client: the SDK's credential chain, SigV4 signer, retry strategy,
 * config loaders and endpoint ruleset (sdk-parts.ts), driven directly, in place of
 * SecretsManagerClient and its commands. Issue 15: a start with one aws-sm:// reference spent
 * ~7 ms in the client machinery alone (evaluating it, building the client, its middleware
 * stack, schema serde), on top of what the request itself needs.
 *
 * What it keeps of the SDK client's behaviour, each by the SDK's own code:
 * - credentials: defaultProvider (environment, shared config/credentials files and profiles,
 *   SSO, process, web identity, ECS, IMDSv2), with `profile`, resolved once per call before
 *   the attempts, as the SDK's auth middleware does;
 * - region: latchkey's own, else the SDK's region chain (AWS_REGION, profile config, IMDS),
 *   FIPS pseudo-regions included (resolveRegionConfig);
 * - endpoint: latchkey's --aws-endpoint (or AWS_ENDPOINT_URL_SECRETS_MANAGER) as is; otherwise
 *   the configured endpoint URLs (AWS_ENDPOINT_URL*, endpoint_url in the config file, unless
 *   ignore_configured_endpoint_urls) and Secrets Manager's ruleset with UseFIPS/UseDualStack;
 * - signing: SignatureV4 with smithy's JavaScript SHA-256 (no node:crypto in the asset), every
 *   attempt signed anew, with the clock-skew correction of the SDK's signer (offset from the
 *   Date header; a skew error with a corrected clock is retried);
 * - retries: the strategy resolveRetryConfig makes (adaptive, maxAttempts), with the retry
 *   middleware's loop and error classification (throttling, transient, server errors,
 *   Retry-After hints), every wait cut by the abort signal;
 * - protocol: awsJson1_1, errors named as the SDK names them (__type, code, x-amzn-errortype,
 *   with any namespace# prefix and :suffix removed), with message and $metadata.
 * Responses are plain JSON; of the fields latchkey reads, only blobs (SecretBinary) differ
 * on the wire: base64, decoded here.
 */
import type { SdkModule } from "./sdk.ts";
import { LightHttpHandler, type TransportRequest, type TransportResponse } from "./transport.ts";

export interface ThinClientOptions {
  region?: string;
  endpoint?: string;
  profile?: string;
  maxAttempts: number;
  /** The User-Agent header (the SDK's own, with its platform details, is not sent). */
  userAgent?: string;
}

export interface ThinClientHooks {
  /** Every attempt sent, per operation. */
  attempt?(op: string): void;
  /** Every attempt's failure (the deadline's abort included). */
  attemptFailed?(op: string, e: unknown): void;
}

/** A service or transport failure as the SDK surfaces one: name, message, $metadata. */
export interface AwsError extends Error {
  $fault?: "client" | "server";
  $metadata: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string; cfId?: string; attempts?: number; totalRetryDelay?: number; clockSkewCorrected?: boolean };
  $response?: TransportResponse;
  code?: string;
}

export interface Output {
  $metadata: { httpStatusCode: number; requestId?: string; attempts: number; totalRetryDelay: number };
  [k: string]: unknown;
}

const SERVICE_ID = "Secrets Manager";
const SIGNING_NAME = "secretsmanager";
const SKEW_THRESHOLD = 240_000;
/** Marks a failure that came before the request was sent: not an attempt, never retried. */
const NOT_SENT = Symbol("not sent");

interface Endpoint {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  headers: Record<string, string>;
  signingRegion?: string;
  signingName?: string;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };
type RetryToken = { getRetryCount(): number; getRetryDelay(): number; $retryLog?: { acquisitionDelay?: number } };
interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, info: { error: unknown; errorType: string; retryAfterHint?: Date }): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

export class ThinSecretsManagerClient {
  readonly #sdk: SdkModule;
  readonly #opts: ThinClientOptions;
  readonly #hooks: ThinClientHooks;
  readonly #http: LightHttpHandler;
  readonly #region: () => Promise<string>;
  readonly #useFips: () => Promise<boolean>;
  readonly #useDualstack: () => Promise<boolean>;
  readonly #credentials: () => Promise<Credentials>;
  readonly #disableSkewCorrection: () => Promise<boolean>;
  #endpoint: Promise<Endpoint> | undefined;
  #skewOff: Promise<boolean> | undefined;
  #customEndpointOk: Promise<void> | undefined;
  #retry: Promise<RetryStrategy> | undefined;
  #signers = new Map<string, InstanceType<SdkModule["SignatureV4"]>>();
  /** The server's clock minus ours, in ms, as the SDK's signer keeps it. */
  systemClockOffset = 0;

  constructor(sdk: SdkModule, opts: ThinClientOptions, hooks: ThinClientHooks = {}, http = new LightHttpHandler()) {
    this.#sdk = sdk;
    this.#opts = opts;
    this.#hooks = hooks;
    this.#http = http;
    const loaderConfig = { profile: opts.profile };
    const resolved = sdk.resolveRegionConfig({
      region: opts.region ?? sdk.loadConfig(sdk.NODE_REGION_CONFIG_OPTIONS, { ...sdk.NODE_REGION_CONFIG_FILE_OPTIONS, ...loaderConfig }),
      useFipsEndpoint: sdk.loadConfig(sdk.NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, loaderConfig),
    });
    this.#region = resolved.region;
    this.#useFips = resolved.useFipsEndpoint;
    this.#useDualstack = sdk.loadConfig(sdk.NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, loaderConfig);
    this.#disableSkewCorrection = sdk.loadConfig({
      environmentVariableSelector: (env) => boolOf(env.AWS_DISABLE_CLOCK_SKEW_CORRECTION),
      configFileSelector: (profile) => boolOf(profile.disable_clock_skew_correction),
      default: false,
    }, loaderConfig);
    // What the SDK client handed its credential chain: the client's config, whose region and
    // profile the chain's own clients (STS for roles and web identity, SSO) start from.
    const clientConfig = { region: this.#region, profile: opts.profile, serviceId: SERVICE_ID };
    const chain = sdk.defaultProvider({ ...(opts.profile ? { profile: opts.profile } : {}), parentClientConfig: clientConfig } as never);
    this.#credentials = () => chain({ callerClientConfig: clientConfig } as never) as Promise<Credentials>;
  }

  /** Closes the connections (the handler's, which a caller may share between clients). */
  destroy(): void {
    this.#http.destroy();
  }

  /** One operation, with the SDK's retries, every attempt and wait cut by `abortSignal`. */
  async send(op: string, input: Record<string, unknown>, { abortSignal }: { abortSignal?: AbortSignal } = {}): Promise<Output> {
    const body = JSON.stringify(input);
    // Before the attempts, as the SDK's middleware: neither counted nor retried.
    const [endpoint, strategy] = await race(Promise.all([this.#endpoint ??= this.#resolveEndpoint(), this.#retry ??= this.#retryStrategy()]), abortSignal);
    const region = endpoint.signingRegion ?? await this.#region();
    await race(this.#credentials(), abortSignal);
    const signer = this.#signerFor(region, endpoint.signingName ?? SIGNING_NAME);
    // latchkey's own endpoint skips the ruleset, but not the ruleset's refusal of it with FIPS
    // or dual-stack on: checked before the first request is sent, the settings (a shared
    // config read without the variables) read while it is signed.
    const endpointOk = this.#customEndpointOk ??= this.#opts.endpoint ? this.#checkCustomEndpoint() : Promise.resolve();
    endpointOk.catch(() => {}); // surfaced where it is awaited
    // Whether clock-skew correction is off matters only once there is an offset to apply or a
    // response to sample, so the first request does not wait for it: without the variable it
    // is a read of the shared config file, the start's first asynchronous file operation
    // (~0.7 ms on the critical path, measured on a start with one reference; issue 15).
    const skewOff = this.#skewOff ??= this.#disableSkewCorrection();
    skewOff.catch(() => {}); // surfaced where it is awaited
    let token = await race(strategy.acquireInitialRetryToken(""), abortSignal);
    let attempts = 0;
    let totalRetryDelay = 0;
    const invocationId = this.#sdk.v4();
    for (;;) {
      const offsetBefore = this.systemClockOffset;
      const sentAt = Date.now();
      try {
        const request: TransportRequest = {
          method: "POST",
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          ...(endpoint.port !== undefined ? { port: endpoint.port } : {}),
          path: endpoint.path,
          query: {},
          headers: this.#headers(op, endpoint, body, invocationId, attempts + 1),
          body,
        };
        const offset = this.systemClockOffset !== 0 && !(await skewOff) ? this.systemClockOffset : 0;
        const signed = await signer.sign(request as never, {
          signingDate: new Date(sentAt + offset),
          signingRegion: region,
          signingService: endpoint.signingName ?? SIGNING_NAME,
        }) as unknown as TransportRequest;
        try {
          await race(endpointOk, abortSignal);
        } catch (refused) {
          throw Object.assign(refused as Error, { [NOT_SENT]: true });
        }
        this.#hooks.attempt?.(op);
        const { response } = await this.#http.handle(signed, abortSignal ? { abortSignal } : {});
        if (!(await skewOff)) this.#sampleClock(response.headers.date, response.headers.age, sentAt);
        if (response.statusCode >= 300) throw errorFrom(response);
        const out = parseOutput(response);
        strategy.recordSuccess(token);
        out.$metadata = { ...metadataOf(response), httpStatusCode: response.statusCode, attempts: attempts + 1, totalRetryDelay };
        return out;
      } catch (e) {
        if ((e as { [NOT_SENT]?: boolean })?.[NOT_SENT]) throw e;
        const err = e as AwsError;
        if (err?.$response && err.$metadata && !(await skewOff.catch(() => true))) {
          // The SDK signer's error handler: a server time that moves our offset past the
          // threshold marks the error clock-skew-corrected, which makes it transient.
          const serverTime = (err as { ServerTime?: string }).ServerTime ?? err.$response.headers.date;
          this.#sampleClock(serverTime, err.$response.headers.age, sentAt);
          const now = this.systemClockOffset;
          if (Math.abs(now) >= SKEW_THRESHOLD && now !== offsetBefore) err.$metadata.clockSkewCorrected = true;
        }
        this.#hooks.attemptFailed?.(op, e);
        const info: { error: unknown; errorType: string; retryAfterHint?: Date } = { error: e, errorType: this.#errorType(err) };
        const hint = err?.$response ? this.#sdk.getRetryAfterHint(err.$response as never) : undefined;
        if (hint) info.retryAfterHint = hint;
        try {
          token = await race(strategy.refreshRetryTokenForRetry(token, info), abortSignal);
        } catch (refused) {
          if (abortSignal?.aborted && (refused as Error)?.name === "AbortError") throw refused;
          const out = e instanceof Error ? e as AwsError : Object.assign(new Error(String(e)), { $metadata: {} }) as AwsError;
          out.$metadata ??= {};
          out.$metadata.attempts = attempts + 1;
          out.$metadata.totalRetryDelay = totalRetryDelay;
          throw out;
        }
        attempts = token.getRetryCount();
        const delay = token.getRetryDelay();
        totalRetryDelay += (token.$retryLog?.acquisitionDelay ?? 0) + delay;
        if (delay > 0) await race(new Promise((r) => setTimeout(r, delay)), abortSignal);
      }
    }
  }

  #headers(op: string, endpoint: Endpoint, body: string, invocationId: string, attempt: number): Record<string, string> {
    const { hostname, port, protocol } = endpoint;
    const h: Record<string, string> = {
      ...endpoint.headers,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `secretsmanager.${op}`,
      "content-length": String(Buffer.byteLength(body)),
      host: port === undefined || (protocol === "https:" ? port === 443 : port === 80) ? hostname : `${hostname}:${port}`,
      "user-agent": this.#opts.userAgent ?? "latchkey",
      "amz-sdk-invocation-id": invocationId,
      "amz-sdk-request": `attempt=${attempt}; max=${this.#opts.maxAttempts}`,
    };
    // The SDK's recursion detection, inside Lambda.
    const trace = process.env._X_AMZN_TRACE_ID;
    if (process.env.AWS_LAMBDA_FUNCTION_NAME && trace) h["x-amzn-trace-id"] = trace;
    return h;
  }

  #signerFor(region: string, service: string) {
    const key = `${region}\0${service}`;
    let s = this.#signers.get(key);
    if (!s) {
      s = new this.#sdk.SignatureV4({ credentials: this.#credentials, region, service, sha256: this.#sdk.Sha256Js, uriEscapePath: true });
      this.#signers.set(key, s);
    }
    return s;
  }

  /** The SDK signer's offset update: the server's Date against ours, unless a cache answered (Age). */
  #sampleClock(date: string | undefined, age: string | undefined, sentAt: number): void {
    if (!date || age !== undefined) return;
    const server = Date.parse(date);
    if (Number.isNaN(server)) return;
    const now = Date.now();
    if (now - sentAt > 900_000) return;
    this.systemClockOffset = server - now;
  }

  #errorType(e: AwsError): string {
    const s = this.#sdk;
    if (s.isThrottlingError(e as never)) return "THROTTLING";
    if (s.isTransientError(e as never)) return "TRANSIENT";
    if (s.isServerError(e as never)) return "SERVER_ERROR";
    return "CLIENT_ERROR";
  }

  /** The SDK's endpoint rules: a custom endpoint is not combined with FIPS or dual-stack. */
  async #checkCustomEndpoint(): Promise<void> {
    const [useFips, useDualstack] = await Promise.all([this.#useFips(), this.#useDualstack()]);
    const refuse = (what: string) => Object.assign(new Error(`Invalid Configuration: ${what} and custom endpoint are not supported`), { name: "EndpointError" });
    if (useFips) throw refuse("FIPS");
    if (useDualstack) throw refuse("Dualstack");
  }

  async #retryStrategy(): Promise<RetryStrategy> {
    const cfg = this.#sdk.resolveRetryConfig({ maxAttempts: this.#opts.maxAttempts, retryMode: "adaptive" } as never) as unknown as { retryStrategy(): Promise<RetryStrategy> };
    return cfg.retryStrategy();
  }

  async #resolveEndpoint(): Promise<Endpoint> {
    const sdk = this.#sdk;
    let custom = this.#opts.endpoint;
    if (custom) return endpointOf(new URL(custom), {});
    const [region, useFips, useDualstack] = await Promise.all([this.#region(), this.#useFips(), this.#useDualstack()]);
    // The configured endpoint URLs (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL,
    // endpoint_url in the shared config) the SDK client would have looked up.
    const configured = await (sdk.resolveEndpointConfig({ serviceId: SERVICE_ID } as never) as unknown as { serviceConfiguredEndpoint(): Promise<string | undefined> }).serviceConfiguredEndpoint();
    if (configured) custom = configured;
    const ep = sdk.defaultEndpointResolver({ Region: region, UseFIPS: useFips, UseDualStack: useDualstack, ...(custom ? { Endpoint: custom } : {}) });
    const scheme = (ep.properties?.authSchemes as { name?: string; signingRegion?: string; signingName?: string }[] | undefined)?.find((a) => a.name === "sigv4");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ep.headers ?? {})) headers[k.toLowerCase()] = ([] as string[]).concat(v as string | string[]).join(",");
    return endpointOf(ep.url, headers, scheme);
  }
}

function endpointOf(url: URL, headers: Record<string, string>, scheme?: { signingRegion?: string; signingName?: string }): Endpoint {
  return {
    protocol: url.protocol,
    // An IPv6 literal keeps its brackets, as in the Host header it becomes; the transport
    // takes them off to connect.
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    // awsJson1_1 posts to the endpoint's path, ending in "/".
    path: url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`,
    headers,
    ...(scheme?.signingRegion ? { signingRegion: scheme.signingRegion } : {}),
    ...(scheme?.signingName ? { signingName: scheme.signingName } : {}),
  };
}

function boolOf(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new Error(`Cannot load config "disable_clock_skew_correction": expected "true" or "false", got "${v}"`);
}

function metadataOf(r: TransportResponse): { requestId?: string; extendedRequestId?: string; cfId?: string } {
  const h = r.headers;
  const requestId = h["x-amzn-requestid"] ?? h["x-amzn-request-id"] ?? h["x-amz-request-id"];
  return {
    ...(requestId ? { requestId } : {}),
    ...(h["x-amz-id-2"] ? { extendedRequestId: h["x-amz-id-2"] } : {}),
    ...(h["x-amz-cf-id"] ? { cfId: h["x-amz-cf-id"] } : {}),
  };
}

/** A success's JSON body, its blobs (SecretBinary, here or in SecretValues[]) decoded. */
export function parseOutput(r: TransportResponse): Output {
  const text = Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength).toString("utf8");
  const out = (text.length ? JSON.parse(text) : {}) as Output;
  const decode = (o: Record<string, unknown>) => {
    if (typeof o.SecretBinary === "string") o.SecretBinary = new Uint8Array(Buffer.from(o.SecretBinary, "base64"));
  };
  decode(out);
  if (Array.isArray(out.SecretValues)) for (const v of out.SecretValues) if (v && typeof v === "object") decode(v as Record<string, unknown>);
  return out;
}

/** The error code, as the SDK's JSON RPC protocols find it: __type, then code, then the header. */
export function errorCodeOf(headers: Record<string, string>, data: Record<string, unknown>): string | undefined {
  const clean = (raw: unknown) => {
    let v = String(raw);
    if (v.includes(",")) v = v.split(",")[0]!;
    if (v.includes(":")) v = v.split(":")[0]!;
    if (v.includes("#")) v = v.split("#")[1]!;
    return v;
  };
  if (data.__type !== undefined) return clean(data.__type);
  const codeKey = Object.keys(data).find((k) => k.toLowerCase() === "code");
  if (codeKey && data[codeKey] !== undefined) return clean(data[codeKey]);
  const headerKey = Object.keys(headers).find((k) => k.toLowerCase() === "x-amzn-errortype");
  if (headerKey !== undefined) return clean(headers[headerKey]);
  return undefined;
}

/** A response of status 300 or more as the error the SDK would throw. */
export function errorFrom(r: TransportResponse): AwsError {
  const text = Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength).toString("utf8");
  const $metadata = { httpStatusCode: r.statusCode, ...metadataOf(r) };
  const $fault = r.statusCode < 500 ? "client" as const : "server" as const;
  const make = (name: string, message: string, fields: Record<string, unknown> = {}): AwsError => {
    const e = Object.assign(new Error(message), fields, { name, $fault, $metadata }) as AwsError;
    Object.defineProperty(e, "$response", { value: r, enumerable: false });
    return e;
  };
  let data: Record<string, unknown> | null = null;
  if (!text.trim()) data = {};
  else {
    try {
      const parsed = JSON.parse(text) as unknown;
      data = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed as Record<string, unknown> : {};
    } catch {
      data = null;
    }
  }
  if (data === null) {
    // AWS-compatible servers that answer an IAM denial in the query protocol's XML (moto with
    // IAM enforcement): its code and message.
    if (r.statusCode === 403 && !/json/.test(r.headers["content-type"] ?? "")) {
      if (!text.includes("<Code>")) return make("AccessDeniedException", text.slice(0, 200));
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? "AccessDenied";
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? "";
      return make(code === "AccessDenied" ? "AccessDeniedException" : code, message);
    }
    // Not JSON (a proxy's error page): the status decides whether it is retried.
    return make(errorCodeOf(r.headers, {}) ?? "UnknownError", `HTTP ${r.statusCode}${r.reason ? ` ${r.reason}` : ""}: ${text.replace(/\s+/g, " ").slice(0, 200)}`);
  }
  const name = errorCodeOf(r.headers, data) ?? "Unknown";
  const message = String(data.message ?? data.Message ?? "UnknownError");
  const { __type: _t, message: _m, Message: _M, ...fields } = data;
  return make(name, message, fields);
}

/** The SDK's race: the promise, or an AbortError when the signal fires first. */
function race<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  const abortError = () => Object.assign(new Error("Request aborted"), { name: "AbortError" });
  if (signal.aborted) {
    p.catch(() => {}); // abandoned: its own failure is no one's to handle
    return Promise.reject(abortError());
  }
  let cleanup = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener("abort", onAbort, { once: true });
    cleanup = () => signal.removeEventListener("abort", onAbort);
  });
  return Promise.race([p, aborted]).finally(cleanup);
}
