import { describe, expect, it } from "vitest";
import { CACHE_PAD, cacheFor, HEALTH, MAIN, PLAIN_CACHE, SIDE, unwrapCache, wrapCache } from "../../src/sea-assets.ts";

const argv = (...a: string[]) => ["latchkey", "latchkey", ...a];
const bare = { PATH: "/usr/bin:/bin", HOME: "/root" };

describe("cacheFor: the main bundle's plain cache for a start with nothing to load", () => {
  it.each([
    [["--", "app"], bare],
    [["--exec", "--", "app", "--config", "x"], bare],
    // a NAME_FILE outside the secrets dirs is left alone: still plain (the training run has one)
    [["--", "app"], { ...bare, SSL_CERT_FILE: "/etc/ssl/certs/ca.pem" }],
    // the build's own switches are not settings
    [["--", "app"], { ...bare, LATCHKEY_CODE_CACHE_CHECK: "1" }],
  ])("%j plain", (args, env) => {
    expect(cacheFor(MAIN, argv(...args), env)).toBe(PLAIN_CACHE);
  });

  it.each([
    [["--user", "nobody", "--", "app"], bare],
    [["--exec", "--signal-group", "--", "app"], bare],
    [["check"], bare],
    [["version"], bare],
    [[], bare],
    [["--", "app"], { ...bare, LATCHKEY_SECRETS_DIR: "/s" }],
    [["--", "app"], { ...bare, DB_PASSWORD: "aws-sm://prod/db#password" }],
    [["--exec", "--", "app"], { ...bare, TOKEN: "vault://secret/app#token" }],
  ])("%j full", (args, env) => {
    expect(cacheFor(MAIN, argv(...args), env)).toBe(MAIN.cache);
  });

  it("other bundles keep their one cache", () => {
    for (const b of [HEALTH, ...Object.values(SIDE)]) expect(cacheFor(b, argv("--", "app"), bare)).toBe(b.cache);
  });
});

describe("wrapCache: a code cache padded into place, the same length whatever the padding", () => {
  const cache = Buffer.from("a code cache's bytes");
  it.each([0, 1, 5, 7])("padding %i", (p) => {
    const stored = wrapCache(cache, p);
    expect(stored.length).toBe(cache.length + CACHE_PAD);
    expect(stored[0]).toBe(p);
    const back = unwrapCache(stored);
    expect(back.equals(cache)).toBe(true);
    expect(back.byteOffset - stored.byteOffset).toBe(1 + p); // a view into the asset, not a copy
  });

  it("refuses a padding that does not fit", () => {
    expect(() => wrapCache(cache, 8)).toThrow(RangeError);
    expect(() => wrapCache(cache, -1)).toThrow(RangeError);
  });
});
