import { describe, expect, it } from "vitest";
import { secretSetFrom } from "../../../src/watch/pipeline.ts";
import type { SecretVar } from "../../../src/env/prepare.ts";
import { registerScheme } from "../../../src/sources/source.ts";
import { Logger } from "../../../src/log/logger.ts";

registerScheme("aws-sm", () => ({ scheme: "aws-sm", fetch: async () => [], versions: async (refs) => refs.map(() => "v1") }));
const log = new Logger();
log.level = "silent";

describe("secretSetFrom", () => {
  const secrets: SecretVar[] = [
    { name: "DB", value: "d", kind: "dir", source: "/run/secrets/db", version: "1:2" },
    { name: "API", value: "a", kind: "var-file", source: "API_FILE=/etc/app/api", version: "3:4" },
    { name: "TOKEN", value: "t", kind: "reference", source: "TOKEN=aws-sm://prod/token#t", version: "v1" },
    { name: "CERT", value: "c", kind: "reference", source: "CERT=file:///certs/tls.pem" },
    { name: "FROM_ENV_FILE", value: "e", kind: "env-file", source: "/app/.env" },
  ];

  it("lists every file to watch, the origin scheme of every variable, one remote check per scheme", async () => {
    const set = secretSetFrom({ secrets }, { DB: "d", PATH: "/bin" }, { dirs: [{ path: "/run/secrets", optional: true }], envFiles: ["/app/.env"], envName: "prod" }, log);
    expect(set.files).toEqual(["/app/.env", "/certs/tls.pem", "/etc/app/api", "/run/secrets", "/run/secrets/db", "/run/secrets/prod"]);
    expect(set.origins).toEqual({ DB: "file", API: "file", TOKEN: "aws-sm", CERT: "file", FROM_ENV_FILE: "file" });
    expect(Object.keys(set.secrets).sort()).toEqual(["API", "CERT", "DB", "TOKEN"]);
    expect([...set.remote!.keys()]).toEqual(["aws-sm"]);
    expect(await set.remote!.get("aws-sm")!(new AbortController().signal)).toBe(false);
  });

  it("has no remote checks when everything is local", () => {
    const set = secretSetFrom({ secrets: secrets.filter((s) => s.name !== "TOKEN") }, {}, { dirs: [], envFiles: [] }, log);
    expect(set.remote).toBeUndefined();
  });
});
