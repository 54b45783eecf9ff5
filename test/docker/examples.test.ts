/**
 * The examples that cannot run here (Kubernetes, Vault, AWS) and those that can, kept honest
 * without a cluster: Kubernetes manifests validate against the Kubernetes API's JSON schemas
 * (kubernetes-models, offline), pod specs keep the hardening the docs promise, and every
 * latchkey flag, LATCHKEY_* variable and config file in examples/ is one latchkey accepts
 * (so renaming a flag breaks this test, not a user's deployment). No Docker needed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.ts";

const EXAMPLES = join(ROOT, "examples");

type FlagsModule = typeof import("../../src/cli/flags.ts");
type FileModule = typeof import("../../src/config/file.ts");
let flags: FlagsModule;
let configFile: FileModule;
beforeAll(async () => {
  // main() registers every concern's flags and config sections before it parses anything;
  // `version` then returns at once. Exactly the set the real binary knows.
  const { main } = await import("../../src/main.ts");
  expect(await main(["version"])).toBe(0);
  flags = await import("../../src/cli/flags.ts");
  configFile = await import("../../src/config/file.ts");
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}
const all = files(EXAMPLES);
const rel = (p: string) => relative(ROOT, p);

interface K8sDoc { apiVersion: string; kind: string; [k: string]: unknown }
const manifests: Array<{ file: string; doc: K8sDoc }> = [];
for (const f of all.filter((p) => /\.ya?ml$/.test(p))) {
  for (const d of parseAllDocuments(readFileSync(f, "utf8"))) {
    const doc = d.toJS() as unknown;
    if (doc && typeof doc === "object" && "apiVersion" in doc && "kind" in doc) manifests.push({ file: rel(f), doc: doc as K8sDoc });
  }
}

/** apiVersion → module of kubernetes-models. */
const MODULES: Record<string, string> = { v1: "kubernetes-models/v1", "apps/v1": "kubernetes-models/apps/v1" };

type Pod = {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Array<{
    name: string; env?: Array<{ name: string; value?: string }>;
    securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
    startupProbe?: { exec?: { command: string[] } }; livenessProbe?: { exec?: { command: string[] } }; readinessProbe?: { exec?: { command: string[] } };
    volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
  }>;
  volumes?: Array<{ name: string; secret?: unknown; projected?: unknown }>;
};
const deployments = () => manifests.filter((m) => m.doc.kind === "Deployment").map((m) => ({
  file: m.file, name: (m.doc.metadata as { name: string }).name, pod: ((m.doc.spec as { template: { spec: Pod } }).template.spec),
}));

describe("Kubernetes manifests in examples/", () => {
  it("there are manifests to check (Deployments with secret volumes, Vault and AWS auth)", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    expect(deployments().length).toBeGreaterThanOrEqual(3);
  });

  it("each validates against the Kubernetes JSON schema of its kind", async () => {
    for (const { file, doc } of manifests) {
      const mod = MODULES[doc.apiVersion];
      expect(mod, `${file}: ${doc.apiVersion} ${doc.kind} (add its module to MODULES)`).toBeDefined();
      const Kind = (await import(mod!) as Record<string, new (d: unknown) => { validate(): void }>)[doc.kind];
      expect(Kind, `${file}: ${doc.kind}`).toBeDefined();
      try {
        new Kind!(doc).validate();
      } catch (e) {
        throw new Error(`${file}: ${doc.kind} ${(doc.metadata as { name?: string })?.name}: ${(e as Error).message}`);
      }
    }
  });

  it("the schema check can fail (a misspelt field and a wrong type are rejected)", async () => {
    const { Deployment } = await import("kubernetes-models/apps/v1");
    const good = deployments()[0]!;
    const doc = manifests.find((m) => m.doc.kind === "Deployment")!.doc;
    const bad = structuredClone(doc) as unknown as { spec: { replicas: unknown; template: { spec: { containers: Array<Record<string, unknown>> } } } };
    bad.spec.replicas = "two";
    expect(() => new Deployment(bad as never).validate(), good.file).toThrow();
    const bad2 = structuredClone(doc) as unknown as typeof bad;
    bad2.spec.template.spec.containers[0]!.imagePullPolicy = 7;
    expect(() => new Deployment(bad2 as never).validate()).toThrow();
  });

  it("pods are hardened: non-root, read-only root, no capabilities, no privilege escalation, seccomp", () => {
    for (const { file, name, pod } of deployments()) {
      const at = `${file} ${name}`;
      expect(pod.securityContext?.runAsNonRoot, at).toBe(true);
      expect(pod.securityContext?.runAsUser, at).toBe(1001);
      expect(pod.securityContext?.seccompProfile?.type, at).toBe("RuntimeDefault");
      for (const c of pod.containers) {
        expect(c.securityContext?.readOnlyRootFilesystem, at).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation, at).toBe(false);
        expect(c.securityContext?.capabilities?.drop, at).toEqual(["ALL"]);
        expect(c.securityContext?.capabilities?.add ?? [], at).toEqual([]);
      }
    }
  });

  it("probes use `latchkey health`, and secret volumes are mounted whole (subPath would stop kubelet rotation)", () => {
    for (const { file, name, pod } of deployments()) {
      for (const c of pod.containers) {
        for (const probe of [c.startupProbe, c.readinessProbe]) {
          expect(probe?.exec?.command.slice(0, 2), `${file} ${name}`).toEqual(["latchkey", "health"]);
        }
        const secretVolumes = new Set((pod.volumes ?? []).filter((v) => v.secret).map((v) => v.name));
        for (const m of c.volumeMounts ?? []) if (secretVolumes.has(m.name)) expect(m.subPath, `${file} ${m.mountPath}`).toBeUndefined();
      }
    }
  });
});

describe("latchkey settings used in examples/ exist", () => {
  it("every LATCHKEY_* variable is one latchkey reads", () => {
    // Build arguments of the example Dockerfiles and compose files, not latchkey settings.
    const notSettings = new Set(["LATCHKEY_IMAGE"]);
    const known = new Set([...flags.allFlags().map((f) => f.env).filter(Boolean), ...notSettings]);
    const used = new Map<string, string>();
    for (const f of all) {
      for (const m of readFileSync(f, "utf8").matchAll(/\bLATCHKEY_[A-Z0-9_]*[A-Z0-9]\b/g)) used.set(m[0], rel(f));
    }
    expect(used.size).toBeGreaterThan(5);
    const unknown = [...used].filter(([v]) => !known.has(v)).map(([v, f]) => `${v} (${f})`);
    expect(unknown).toEqual([]);
  });

  it("every --flag in a latchkey command (Dockerfiles, compose, stacks, manifests, ECS) exists", () => {
    const known = new Set(flags.allFlags().map((f) => f.name));
    const commands: Array<{ file: string; argv: string[] }> = [];
    const walk = (v: unknown, file: string) => {
      if (Array.isArray(v)) {
        const i = v.findIndex((x) => typeof x === "string" && /(^|\/)latchkey$/.test(x));
        if (i >= 0 && v.every((x) => typeof x === "string")) commands.push({ file, argv: v.slice(i + 1) as string[] });
        v.forEach((x) => walk(x, file));
      } else if (v && typeof v === "object") Object.values(v).forEach((x) => walk(x, file));
    };
    for (const f of all) {
      const text = readFileSync(f, "utf8");
      if (/\.ya?ml$/.test(f)) for (const d of parseAllDocuments(text)) walk(d.toJS(), rel(f));
      else if (/\.json$/.test(f)) walk(JSON.parse(text), rel(f));
      else if (/(^|\/)Dockerfile[^/]*$/.test(f)) {
        // ENTRYPOINT/CMD/HEALTHCHECK in exec form, continuation lines joined.
        for (const m of text.replace(/\\\n/g, " ").matchAll(/\[[^\]\n]*"latchkey"[^\]\n]*\]/g)) walk(JSON.parse(m[0]), rel(f));
      }
    }
    expect(commands.length).toBeGreaterThan(5);
    const unknown: string[] = [];
    for (const { file, argv } of commands) {
      for (const a of argv) {
        if (a === "--") break;
        const m = /^--([a-z][a-z0-9-]*)/.exec(a);
        if (m && !known.has(m[1]!)) unknown.push(`${a} (${file})`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("every latchkey config file and ConfigMap-embedded config is valid", () => {
    const configs: Array<{ where: string; text: string }> = [];
    for (const f of all.filter((p) => /\.ya?ml$/.test(p))) {
      const text = readFileSync(f, "utf8");
      const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown> | null);
      for (const d of docs) {
        if (d?.kind === "ConfigMap") {
          for (const [k, v] of Object.entries((d.data ?? {}) as Record<string, string>)) {
            if (/latchkey.*\.ya?ml$/.test(k)) configs.push({ where: `${rel(f)} (ConfigMap ${k})`, text: v });
          }
        }
      }
      // A latchkey config file: not a manifest, not a compose/stack file.
      const d = docs[0];
      if (docs.length === 1 && d && !("apiVersion" in d) && !("services" in d)) configs.push({ where: rel(f), text });
    }
    expect(configs.map((c) => c.where).sort()).toEqual(expect.arrayContaining([
      "examples/python-app/latchkey.yaml", "examples/vault/approle.yaml", "examples/vault/kubernetes-auth.yaml", "examples/aws/latchkey.yaml",
    ]));
    for (const { where, text } of configs) {
      expect(() => configFile.parseConfigText(text, "latchkey.yaml"), where).not.toThrow();
      expect(Object.keys(parseYaml(text) as object).length, where).toBeGreaterThan(0);
    }
    // The same check rejects a key latchkey does not know.
    expect(() => configFile.parseConfigText("stopTimeOut: 8s\n", "x.yaml")).toThrow(/stopTimeOut/);
  });
});
