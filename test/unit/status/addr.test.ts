import { describe, expect, it } from "vitest";
import { clientUrl, parseAddr } from "../../../src/status/addr.ts";

describe("--status-addr", () => {
  it.each([
    ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
    [":9090", { host: "0.0.0.0", port: 9090 }],
    ["[::1]:80", { host: "::1", port: 80 }],
    ["status.local:0", { host: "status.local", port: 0 }],
  ])("%s", (raw, addr) => {
    expect(parseAddr(raw)).toEqual(addr);
  });

  it.each(["localhost", "127.0.0.1", "1.2.3.4:99999", "::1:80", "host:port", ""])("rejects %j", (raw) => {
    expect(parseAddr(raw)).toBeNull();
  });

  it("probes wildcard binds on loopback", () => {
    expect(clientUrl({ host: "0.0.0.0", port: 1 }, "/health")).toBe("http://127.0.0.1:1/health");
    expect(clientUrl({ host: "::", port: 1 }, "/health")).toBe("http://[::1]:1/health");
    expect(clientUrl({ host: "10.0.0.5", port: 2 }, "/x")).toBe("http://10.0.0.5:2/x");
  });
});
