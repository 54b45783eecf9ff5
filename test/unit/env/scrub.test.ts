import { describe, expect, it } from "vitest";
import { registerBootstrapCredentials, scrubList } from "../../../src/env/scrub.ts";
import { registerSecretFlags } from "../../../src/env/flags.ts";

registerSecretFlags();
registerBootstrapCredentials("unit-sm", ["UNIT_SM_TOKEN"]);

describe("scrubList", () => {
  const env = { LATCHKEY_REQUIRE: "A", LATCHKEY_WHATEVER: "1", UNIT_SM_TOKEN: "t", APP: "x" };

  it("removes latchkey's settings always, provider credentials only when that provider was used", () => {
    expect(scrubList(env, new Set(), new Set())).toEqual([
      { name: "LATCHKEY_REQUIRE", reason: "latchkey setting" },
      { name: "LATCHKEY_WHATEVER", reason: "latchkey setting" },
    ]);
    expect(scrubList(env, new Set(["unit-sm"]), new Set()).map((s) => s.name)).toEqual(["LATCHKEY_REQUIRE", "LATCHKEY_WHATEVER", "UNIT_SM_TOKEN"]);
    expect(scrubList(env, new Set(["unit-sm"]), new Set()).find((s) => s.name === "UNIT_SM_TOKEN")!.reason).toBe("unit-sm:// bootstrap credential");
  });

  it("--keep-env keeps named variables, or everything with all", () => {
    expect(scrubList(env, new Set(["unit-sm"]), new Set(["UNIT_SM_TOKEN", "LATCHKEY_WHATEVER"])).map((s) => s.name)).toEqual(["LATCHKEY_REQUIRE"]);
    expect(scrubList(env, new Set(["unit-sm"]), "all")).toEqual([]);
  });
});
