import { describe, expect, it } from "vitest";
import { parseTarget, type HttpTarget } from "../../../src/health/target.ts";

const fail = (v: string, why: string) => new Error(`bad '${v}': ${why}`);
const parse = (raw: string) => parseTarget(raw, fail);

describe("parseTarget", () => {
  it("parses each kind", () => {
    expect(parse("tcp://db:5432")).toMatchObject({ kind: "tcp", host: "db", port: 5432, display: "tcp://db:5432" });
    expect(parse("tcp://[::1]:80")).toMatchObject({ kind: "tcp", host: "::1", port: 80 });
    expect(parse("unix:///run/app.sock")).toMatchObject({ kind: "unix", path: "/run/app.sock" });
    expect(parse("file:///run/my%20ready")).toMatchObject({ kind: "file", path: "/run/my ready" });
    const h = parse("http://cache:8080/health?deep=1") as HttpTarget;
    expect(h).toMatchObject({ kind: "http", statuses: [[200, 399]], insecure: false });
    expect(h.url.pathname + h.url.search).toBe("/health?deep=1");
  });

  it("reads per-check options from the fragment and keeps them off the request", () => {
    const h = parse("https://api/health#status=200-299&status=418&body=UP&timeout=10s&ca=/etc/ca.pem") as HttpTarget;
    expect(h).toMatchObject({ statuses: [[200, 299], [418, 418]], body: "UP", timeoutMs: 10_000, caFile: "/etc/ca.pem", insecure: false });
    expect(h.url.hash).toBe("");
    expect(h.display).toBe("https://api/health");
    expect((parse("https://api/#insecure") as HttpTarget).insecure).toBe(true);
    expect(parse("tcp://db:5432#timeout=500ms").timeoutMs).toBe(500);
  });

  it("masks a password in the display form", () => {
    expect(parse("http://u:hunter22@h/x").display).toBe("http://u:***@h/x");
  });

  it.each([
    ["db:5432", /expected a URL such as/],
    ["ftp://x/", /expected a URL such as/],
    ["tcp://db", /expected tcp:\/\/HOST:PORT/],
    ["tcp://db:99999", /not a valid URL|expected tcp/],
    ["tcp://db:5432/path", /takes no path/],
    ["unix://run/app.sock", /three slashes/],
    ["http://h/#status=abc", /not a status or range/],
    ["http://h/#status=300-200", /not a status or range/],
    ["http://h/#insecure", /unknown option '#insecure' for http/],
    ["https://h/#insecure&ca=/x", /either 'ca' or 'insecure'/],
    ["tcp://h:1#body=x", /unknown option '#body'/],
    ["tcp://h:1#timeout=soon", /not a duration/],
    ["http://h/#body=", /needs the text/],
  ])("rejects %s", (raw, why) => {
    expect(() => parse(raw)).toThrow(why);
  });

  it("limits kinds when asked (health takes no file://)", () => {
    expect(() => parseTarget("file:///x", fail, ["http", "tcp"])).toThrow(/expected a URL such as http:\/\/cache:8080\/health, tcp:\/\/db:5432/);
  });
});
