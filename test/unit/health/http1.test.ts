import { describe, expect, it } from "vitest";
import { finalStatus } from "../../../src/health/http1.ts";

describe("finalStatus (status-line reader of the light http probe)", () => {
  it.each([
    ["HTTP/1.1 200 OK\r\n", 200],
    ["HTTP/1.0 503 Service Unavailable\r\nx: y\r\n", 503],
    ["HTTP/1.1 204\r\n", 204],
    ["HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n", 200],
    ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n", 404],
  ])("%j → %s", (text, status) => {
    expect(finalStatus(text)).toBe(status);
  });

  it.each(["", "HTT", "HTTP/1.1 200 O", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n", "HTTP/1.1 103 Early Hints\r\n\r\n"])("needs more after %j", (text) => {
    expect(finalStatus(text)).toBeNull();
  });

  it.each(["SSH-2.0-OpenSSH\r\n", "hello", "HTTP/1.1 abc\r\n"])("%j is not HTTP", (text) => {
    expect(finalStatus(text)).toBe("bad");
  });
});
