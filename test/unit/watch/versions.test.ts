import { describe, expect, it } from "vitest";
import { remoteVersionCheck } from "../../../src/watch/versions.ts";
import type { FetchedSecret, Reference, SecretSource } from "../../../src/sources/source.ts";
import { Logger } from "../../../src/log/logger.ts";

const ref = (raw: string): Reference => {
  const [scheme, rest] = raw.split("://") as [string, string];
  return { raw, scheme, locator: rest, params: {} };
};
const log = new Logger();
log.level = "silent";

function source(scheme: string, current: Record<string, string | undefined>, withVersions = true): SecretSource & { calls: number } {
  const s = {
    scheme,
    calls: 0,
    async fetch(): Promise<FetchedSecret[]> {
      throw new Error("values must not be fetched by the version check");
    },
    ...(withVersions
      ? { async versions(refs: readonly Reference[]) {
          s.calls++;
          return refs.map((r) => current[r.raw]);
        } }
      : {}),
  };
  return s;
}

describe("remoteVersionCheck", () => {
  const fetched: FetchedSecret[] = [
    { ref: ref("aws-sm://prod/db#user"), value: Buffer.from("x"), version: "v1" },
    { ref: ref("aws-sm://prod/db#user"), value: Buffer.from("x"), version: "v1" },
    { ref: ref("vault://secret/data/app"), value: Buffer.from("y"), version: "3" },
    { ref: ref("file:///run/secrets/x"), value: Buffer.from("z"), version: "1:2" },
  ];

  it("is null when nothing is remote", () => {
    expect(remoteVersionCheck([fetched[3]!], async () => source("file", {}), log)).toBeNull();
  });

  it("asks versions only, and reports a change only when one differs", async () => {
    const current: Record<string, string | undefined> = { "aws-sm://prod/db#user": "v1", "vault://secret/data/app": "3" };
    const srcs = { "aws-sm": source("aws-sm", current), vault: source("vault", current) };
    const check = remoteVersionCheck(fetched, async (s) => srcs[s as keyof typeof srcs], log)!;
    expect(check.refs).toBe(2);
    expect(await check(new AbortController().signal)).toBe(false);
    current["vault://secret/data/app"] = "4";
    expect(await check(new AbortController().signal)).toBe(true);
    expect(srcs.vault.calls).toBe(2);
  });

  it("counts 'cannot tell' and sources without versions() as maybe changed; errors propagate", async () => {
    const check = remoteVersionCheck(fetched, async (s) => source(s, { "aws-sm://prod/db#user": undefined }), log)!;
    expect(await check(new AbortController().signal)).toBe(true);
    const noVersions = remoteVersionCheck(fetched, async (s) => source(s, {}, false), log)!;
    expect(await noVersions(new AbortController().signal)).toBe(true);
    const down = remoteVersionCheck(fetched, async () => {
      throw new Error("vault sealed");
    }, log)!;
    await expect(down(new AbortController().signal)).rejects.toThrow(/sealed/);
  });
});
