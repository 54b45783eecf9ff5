/**
 * The `aws-sm://` source. Loaded only when an aws-sm:// reference is used (see schemes.ts).
 *
 *   aws-sm://prod/db#password                                  by name, JSON key
 *   aws-sm://prod/db?version-stage=AWSPREVIOUS                 a staging label
 *   aws-sm://prod/db?version-id=EXAMPLE1-90ab-cdef-fedc-ba987  a version id
 *   aws-sm://arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf   (region from the ARN)
 *   aws-sm://prod/db?region=eu-west-1                          another region for this one
 *
 * Current versions are fetched with BatchGetSecretValue, 20 per call, all calls in parallel;
 * pinned versions (and everything, where batch is denied or disabled) with GetSecretValue,
 * bounded in parallel. All or nothing: one failure fails the set and names every failed
 * reference. Retries (adaptive: backoff with jitter, client-side rate limiting under
 * throttling) never outlive the startup deadline.
 */
import { VERSION } from "../../cli/usage.ts";
import { ExitCode, LatchkeyError } from "../../errors.ts";
import { Settings } from "../../config/settings.ts";
import { redactor } from "../../log/redact.ts";
import { activePolicies } from "../../policy/active.ts";
import { checkReference } from "../../policy/policy.ts";
import { getRunSettings, type FetchedSecret, type Reference, type SecretSource, type SourceContext } from "../source.ts";
import { describeAwsError } from "./errors.ts";
import { resolveAwsOptions, type AwsOptions } from "./options.ts";
import { awsSectionValues } from "./register.ts";
import { loadSdk, type SdkModule } from "./sdk.ts";
import { ThinSecretsManagerClient, type Output } from "./client.ts";
import { LightHttpHandler } from "./transport.ts";

const BATCH_MAX = 20;
const SINGLE_CONCURRENCY = 10;
const PARAMS = new Set(["version-stage", "version-id", "region"]);

interface Want {
  key: string;
  id: string;
  region: string | undefined;
  stage?: string;
  versionId?: string;
  refs: Reference[];
}

interface Got {
  value: Buffer;
  version?: string;
}

export interface AwsSmSource extends SecretSource {
  /** HTTP attempts sent (retries included), per operation, for tests and benchmarks. */
  readonly calls: Record<string, number>;
  close(): Promise<void>;
  versions(refs: readonly Reference[], ctx: SourceContext): Promise<(string | undefined)[]>;
}

export function createAwsSmSource(env: NodeJS.ProcessEnv = process.env): AwsSmSource {
  const clients = new Map<string, { client: ThinSecretsManagerClient; last: { err?: unknown } }>();
  const calls: Record<string, number> = {};
  let batchDenied = false;
  let sdk: SdkModule | undefined;
  // One connection pool for the source's clients (one per region).
  const http = new LightHttpHandler();

  function clientFor(opts: AwsOptions, region: string | undefined) {
    const key = region ?? "";
    let c = clients.get(key);
    if (c) return c;
    const last: { err?: unknown } = {};
    const client = new ThinSecretsManagerClient(sdk!, {
      ...(region ? { region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      maxAttempts: opts.maxAttempts,
      userAgent: `latchkey/${VERSION}`,
    }, {
      attempt: (op) => {
        calls[op] = (calls[op] ?? 0) + 1;
      },
      // The attempt cut by the deadline says nothing; keep what the attempts before it saw, so
      // that a deadline cut can say what they were failing with.
      attemptFailed: (_op, e) => {
        if ((e as { name?: string }).name !== "AbortError") last.err = e;
      },
    }, http);
    c = { client, last };
    clients.set(key, c);
    return c;
  }

  function wants(refs: readonly Reference[], opts: AwsOptions, policies: ReturnType<typeof activePolicies>): Want[] {
    const byKey = new Map<string, Want>();
    for (const ref of refs) {
      for (const k of Object.keys(ref.params)) {
        if (!PARAMS.has(k)) throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: unknown parameter '${k}' (aws-sm:// takes version-stage, version-id, region)`);
        if (ref.params[k] === "") throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: parameter '${k}' needs a value`);
      }
      const id = ref.locator;
      if (!/^[A-Za-z0-9/_+=.@:-]+$/.test(id) || id.length > 2048) {
        throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: '${id}' is not a valid secret name or ARN (letters, digits and /_+=.@- only)`);
      }
      const arnRegion = /^arn:aws[\w-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:/.exec(id)?.[1];
      if (id.startsWith("arn:") && !arnRegion) throw new LatchkeyError("reference", ExitCode.CONFIG, `${ref.raw}: malformed Secrets Manager ARN (expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)`);
      if (policies.length) checkReference(policies, ref);
      const region = ref.params.region ?? arnRegion ?? opts.region;
      const stage = ref.params["version-stage"];
      const versionId = ref.params["version-id"];
      const key = [region ?? "", id, stage ?? "", versionId ?? ""].join("\0");
      const w = byKey.get(key) ?? { key, id, region, ...(stage ? { stage } : {}), ...(versionId ? { versionId } : {}), refs: [] };
      w.refs.push(ref);
      byKey.set(key, w);
    }
    return [...byKey.values()];
  }

  function signalFor(ctx: SourceContext): AbortSignal {
    return AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, ctx.deadline - Date.now()))]);
  }

  function fail(e: unknown, w: Want, opts: AwsOptions, ctx: SourceContext): LatchkeyError {
    const c = clients.get(w.region ?? "");
    return describeAwsError(e, { raw: w.refs[0]!.raw, region: w.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined), endpoint: opts.endpoint, lastAttempt: c?.last.err, timedOut: Date.now() >= ctx.deadline - 5 && !ctx.signal.aborted });
  }

  function toGot(o: { SecretString?: string; SecretBinary?: Uint8Array; VersionId?: string }): Got {
    const value = o.SecretString !== undefined ? Buffer.from(o.SecretString, "utf8") : Buffer.from(o.SecretBinary ?? new Uint8Array());
    return { value, ...(o.VersionId ? { version: o.VersionId } : {}) };
  }

  async function single(w: Want, opts: AwsOptions, ctx: SourceContext): Promise<Got> {
    const { client } = clientFor(opts, w.region);
    let out: Output;
    try {
      out = await client.send("GetSecretValue", { SecretId: w.id, ...(w.stage ? { VersionStage: w.stage } : {}), ...(w.versionId ? { VersionId: w.versionId } : {}) }, { abortSignal: signalFor(ctx) });
    } catch (e) {
      throw fail(e, w, opts, ctx);
    }
    return toGot(out as Parameters<typeof toGot>[0]);
  }

  /** One BatchGetSecretValue call; null when batch is not permitted (fall back to singles). */
  async function batch(ws: Want[], opts: AwsOptions, ctx: SourceContext): Promise<Map<Want, Got | LatchkeyError> | null> {
    const { client } = clientFor(opts, ws[0]!.region);
    const out = new Map<Want, Got | LatchkeyError>();
    let token: string | undefined;
    const values: { ARN?: string; Name?: string; SecretString?: string; SecretBinary?: Uint8Array; VersionId?: string }[] = [];
    const errors: { SecretId?: string; ErrorCode?: string; Message?: string }[] = [];
    do {
      let r: { SecretValues?: typeof values; Errors?: typeof errors; NextToken?: string };
      try {
        r = await client.send("BatchGetSecretValue", { SecretIdList: ws.map((w) => w.id), ...(token ? { NextToken: token } : {}) }, { abortSignal: signalFor(ctx) }) as typeof r;
      } catch (e) {
        const name = (e as { name?: string }).name ?? "";
        // Denied for the batch action (policies often grant only GetSecretValue), or an endpoint
        // that does not know the action: fetch one by one instead.
        if (name === "AccessDeniedException" || name === "UnknownOperationException" || name === "InvalidAction" || name === "NotImplemented") return null;
        throw fail(e, ws[0]!, opts, ctx);
      }
      values.push(...(r.SecretValues ?? []));
      errors.push(...(r.Errors ?? []));
      token = r.NextToken;
    } while (token);
    for (const w of ws) {
      const v = values.find((x) => x.Name === w.id || x.ARN === w.id || (w.id.startsWith("arn:") && x.ARN?.startsWith(w.id)));
      if (v) {
        out.set(w, toGot(v));
        continue;
      }
      const er = errors.find((x) => x.SecretId === w.id);
      out.set(w, fail(er ? Object.assign(new Error(er.Message ?? ""), { name: er.ErrorCode ?? "Error" }) : Object.assign(new Error("missing from the batch answer"), { name: "ResourceNotFoundException" }), w, opts, ctx));
    }
    return out;
  }

  async function pool<T>(items: T[], n: number, f: (t: T) => Promise<void>): Promise<void> {
    let i = 0;
    await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await f(items[i++]!);
    }));
  }

  return {
    scheme: "aws-sm",
    calls,
    async fetch(refs: readonly Reference[], ctx: SourceContext): Promise<FetchedSecret[]> {
      if (refs.length === 0) return [];
      const settings = ctx.settings ?? getRunSettings() ?? new Settings({ flags: {}, env });
      let opts: AwsOptions;
      try {
        opts = resolveAwsOptions(settings, env, awsSectionValues());
      } catch (e) {
        const err = e as LatchkeyError;
        throw new LatchkeyError(err.code, err.exitCode, `${refs[0]!.raw}${refs.length > 1 ? ` (and ${refs.length - 1} more aws-sm:// references)` : ""}: ${err.message}`);
      }
      sdk ??= await loadSdk();
      const ws = wants(refs, opts, activePolicies(settings));
      const results = new Map<Want, Got | LatchkeyError>();
      const singles: Want[] = [];
      const batchable = opts.batch && !batchDenied ? ws.filter((w) => !w.stage && !w.versionId) : [];
      for (const w of ws) if (!batchable.includes(w)) singles.push(w);
      const byRegion = new Map<string, Want[]>();
      for (const w of batchable) byRegion.set(w.region ?? "", [...(byRegion.get(w.region ?? "") ?? []), w]);
      const chunks: Want[][] = [];
      for (const list of byRegion.values()) for (let i = 0; i < list.length; i += BATCH_MAX) chunks.push(list.slice(i, i + BATCH_MAX));
      const runSingles = (list: Want[]) => pool(list, SINGLE_CONCURRENCY, async (w) => {
        try {
          results.set(w, await single(w, opts, ctx));
        } catch (e) {
          results.set(w, e instanceof LatchkeyError ? e : fail(e, w, opts, ctx));
        }
      });
      await Promise.all([
        runSingles(singles),
        ...chunks.map(async (chunk) => {
          let got: Map<Want, Got | LatchkeyError> | null;
          try {
            got = await batch(chunk, opts, ctx);
          } catch (e) {
            for (const w of chunk) results.set(w, e instanceof LatchkeyError ? e : fail(e, w, opts, ctx));
            return;
          }
          if (got === null) {
            if (!batchDenied) ctx.log.info("aws-sm: BatchGetSecretValue is not permitted; fetching secrets one by one with GetSecretValue");
            batchDenied = true;
            await runSingles(chunk);
            return;
          }
          for (const [w, g] of got) results.set(w, g);
        }),
      ]);
      const failed = ws.filter((w) => results.get(w) instanceof LatchkeyError);
      if (failed.length) {
        const first = results.get(failed[0]!) as LatchkeyError;
        if (failed.length === 1) throw first;
        const others = failed.slice(1).map((w) => w.refs[0]!.raw);
        const shown = others.slice(0, 5).join(", ") + (others.length > 5 ? `, ... (${others.length - 5} more)` : "");
        throw new LatchkeyError(first.code, first.exitCode, `${first.message} (and ${others.length} more of ${ws.length} failed: ${shown})`);
      }
      const byRef = new Map<Reference, Got>();
      for (const w of ws) {
        const g = results.get(w) as Got;
        redactor.add(g.value.toString("utf8"));
        for (const r of w.refs) byRef.set(r, g);
      }
      return refs.map((ref) => {
        const g = byRef.get(ref)!;
        return { ref, value: g.value, ...(g.version ? { version: g.version } : {}) };
      });
    },
    async versions(refs: readonly Reference[], ctx: SourceContext): Promise<(string | undefined)[]> {
      sdk ??= await loadSdk();
      const settings = ctx.settings ?? getRunSettings() ?? new Settings({ flags: {}, env });
      const opts = resolveAwsOptions(settings, env, awsSectionValues());
      const ws = wants(refs, opts, activePolicies(settings));
      const byRef = new Map<Reference, string | undefined>();
      await pool(ws, SINGLE_CONCURRENCY, async (w) => {
        let v: string | undefined = w.versionId;
        if (!v) {
          const { client } = clientFor(opts, w.region);
          try {
            const d = await client.send("DescribeSecret", { SecretId: w.id }, { abortSignal: signalFor(ctx) }) as { VersionIdsToStages?: Record<string, string[]> };
            const stage = w.stage ?? "AWSCURRENT";
            v = Object.entries(d.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(stage))?.[0];
          } catch (e) {
            throw fail(e, w, opts, ctx);
          }
        }
        for (const r of w.refs) byRef.set(r, v);
      });
      return refs.map((r) => byRef.get(r));
    },
    async close(): Promise<void> {
      clients.clear();
      http.destroy();
    },
  };
}
