import { describe, expect, it } from "vitest";
import { findReferences } from "../../../src/env/references.ts";
import { registerBuiltinSchemes } from "../../../src/sources/schemes.ts";

registerBuiltinSchemes();
const opts = { passSchemes: new Set<string>(), sources: new Map<string, string>() };

describe("findReferences", () => {
  it("finds registered-scheme values, passes well-known URLs through, skips latchkey's own settings", () => {
    const env = {
      DB_URL: "file:///run/secrets/db_url",
      DATABASE_URL: "postgres://u:p@db/app",
      PROXY: "http://proxy:3128",
      LATCHKEY_CONFIG: "file:///etc/latchkey.yaml",
      PLAIN: "hello",
    };
    const refs = findReferences(env, new Set(), opts);
    expect(refs.map((r) => [r.name, r.ref.scheme, r.ref.locator])).toEqual([["DB_URL", "file", "/run/secrets/db_url"]]);
  });

  it("an unknown scheme is an error naming the variable and the way out", () => {
    expect(() => findReferences({ API_KEY: "vualt://secret/app" }, new Set(), opts))
      .toThrow(/API_KEY: unknown reference scheme 'vualt:\/\/' \(known: .*file:\/\/.*\); if this is a plain URL, pass it through with --pass-scheme vualt/);
    expect(findReferences({ X: "custom://host" }, new Set(), { ...opts, passSchemes: new Set(["custom"]) })).toEqual([]);
  });

  it("adds the config file's sources", () => {
    const refs = findReferences({}, new Set(), { ...opts, sources: new Map([["TOKEN", "file:///t#k"]]) });
    expect(refs).toMatchObject([{ name: "TOKEN", kind: "config", ref: { scheme: "file", locator: "/t", key: "k" } }]);
  });
});
