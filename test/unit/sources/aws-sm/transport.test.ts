/**
 * The aws-sm:// transport (src/sources/aws-sm/transport.ts) against real servers on 127.0.0.1:
 * node:http for what a well-behaved endpoint sends, raw sockets for the framings and failures
 * node:http would not produce on demand.
 */
import { spawn } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LightHttpHandler, ResponseParser, type TransportRequest } from "../../../../src/sources/aws-sm/transport.ts";

const servers: Server[] = [];
const handlers: LightHttpHandler[] = [];
afterEach(async () => {
  for (const h of handlers.splice(0)) h.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(s: Server): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as AddressInfo).port;
}

function handler(): LightHttpHandler {
  const h = new LightHttpHandler();
  handlers.push(h);
  return h;
}

const post = (port: number, body = '{"SecretIdList":["a"]}', headers: Record<string, string> = {}): TransportRequest => ({
  method: "POST", protocol: "http:", hostname: "127.0.0.1", port, path: "/", body,
  headers: { host: `127.0.0.1:${port}`, "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.BatchGetSecretValue", ...headers },
});

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/** A raw server answering every request on a connection with `answer` (the request is read up to its body). */
async function rawServer(answer: (n: number, sock: Socket) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  let n = 0;
  const port = await listen(createNetServer((sock) => {
    connections++;
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        answer(n++, sock);
      }
    });
    sock.on("error", () => {});
  }));
  return { port, connections: () => connections };
}

describe("LightHttpHandler", () => {
  it("sends the request as built (method, path, headers, body) and returns status, lower-cased headers and the body", async () => {
    let seen: { method?: string; url?: string; headers?: IncomingMessage["headers"]; body?: string } = {};
    const port = await listen(createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        res.setHeader("Content-Type", "application/x-amz-json-1.1");
        res.setHeader("X-Amzn-RequestId", "r-1");
        res.end('{"SecretValues":[]}');
      });
    }));
    const { response } = await handler().handle({ ...post(port), query: { b: "x y", a: ["1", "2"], c: null } });
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/?a=1&a=2&b=x%20y&c");
    expect(seen.headers!["x-amz-target"]).toBe("secretsmanager.BatchGetSecretValue");
    expect(seen.headers!["content-length"]).toBe(String(Buffer.byteLength('{"SecretIdList":["a"]}')));
    expect(seen.body).toBe('{"SecretIdList":["a"]}');
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(response.headers["x-amzn-requestid"]).toBe("r-1");
    expect(text(response.body)).toBe('{"SecretValues":[]}');
  });

  it("reads a chunked body, and keeps the connection for the next request", async () => {
    const port = await listen(createHttpServer((req, res) => {
      req.resume().on("end", () => {
        res.write('{"part":');
        setTimeout(() => res.end('"two"}'), 5);
      });
    }));
    const h = handler();
    const sockets = new Set<unknown>();
    (servers[0] as Server).on("connection", (s) => sockets.add(s));
    for (let i = 0; i < 3; i++) {
      const { response } = await h.handle(post(port));
      expect(response.headers["transfer-encoding"]).toBe("chunked");
      expect(text(response.body)).toBe('{"part":"two"}');
    }
    expect(sockets.size).toBe(1);
  });

  it("a server that closes the connection after answering (Connection: close): a new one next time", async () => {
    const raw = await rawServer((n, sock) => sock.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nn${n}`));
    const h = handler();
    expect(text((await h.handle(post(raw.port))).response.body)).toBe("n0");
    expect(text((await h.handle(post(raw.port))).response.body)).toBe("n1");
    expect(raw.connections()).toBe(2);
  });

  it("a body framed by the end of the connection; a 100 Continue before the answer is skipped", async () => {
    const raw = await rawServer((_n, sock) => {
      sock.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-");
      setTimeout(() => sock.end("close"), 5);
    });
    const { response } = await handler().handle(post(raw.port));
    expect(response.statusCode).toBe(200);
    expect(text(response.body)).toBe("until-close");
  });

  it("a connection that ends before the answer is complete: ECONNRESET, named TimeoutError (retried by the SDK)", async () => {
    const raw = await rawServer((_n, sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
    await expect(handler().handle(post(raw.port))).rejects.toMatchObject({ code: "ECONNRESET", name: "TimeoutError" });
  });

  it("a kept-alive connection the server closed while idle is not reused", async () => {
    const raw = await rawServer((_n, sock) => {
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      setTimeout(() => sock.end(), 5); // closed idle, without saying so in the answer
    });
    const h = handler();
    await h.handle(post(raw.port));
    await new Promise((r) => setTimeout(r, 50));
    expect(text((await h.handle(post(raw.port))).response.body)).toBe("ok");
    expect(raw.connections()).toBe(2);
  });

  it("nothing listening: the socket's own error (ECONNREFUSED)", async () => {
    const port = await listen(createNetServer());
    await new Promise((r) => servers.pop()!.close(r));
    await expect(handler().handle(post(port))).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("the abort signal: an AbortError at once, and the connection dropped", async () => {
    let closed = false;
    const raw = await rawServer((_n, sock) => sock.on("close", () => (closed = true)));
    const ac = new AbortController();
    const p = handler().handle(post(raw.port), { abortSignal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    await expect(handler().handle(post(raw.port), { abortSignal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("a request timeout: ETIMEDOUT, named TimeoutError", async () => {
    const raw = await rawServer(() => {});
    await expect(handler().handle(post(raw.port), { requestTimeout: 50 })).rejects.toMatchObject({ code: "ETIMEDOUT", name: "TimeoutError" });
  });

  it("refuses a header or path that would write other headers (CR/LF)", async () => {
    const raw = await rawServer(() => {});
    await expect(handler().handle(post(raw.port, "{}", { "x-evil": "a\r\nx-other: b" }))).rejects.toThrow(/invalid header/);
    await expect(handler().handle({ ...post(raw.port), path: "/a\r\nx: y" })).rejects.toThrow(/invalid request line/);
    expect(raw.connections()).toBe(0);
  });

  it("an idle kept-alive connection does not keep the process alive", async () => {
    const port = await listen(createHttpServer((req, res) => req.resume().on("end", () => res.end("{}"))));
    const script = `import { LightHttpHandler } from ${JSON.stringify(join(import.meta.dirname, "../../../../src/sources/aws-sm/transport.ts"))};
const h = new LightHttpHandler();
const { response } = await h.handle({ method: "POST", protocol: "http:", hostname: "127.0.0.1", port: ${port}, path: "/", headers: {}, body: "{}" });
console.log(response.statusCode);`;
    const t = Date.now();
    // Not spawnSync: the server answers from this process's event loop.
    const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, ["--input-type=module", "-e", script], { timeout: 10_000 });
      let stdout = "";
      let stderr = "";
      c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      c.on("close", () => resolve({ stdout, stderr }));
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("200");
    expect(Date.now() - t).toBeLessThan(5000); // the server keeps its side open for 5 s (Node's keepAliveTimeout)
  });
});

describe("ResponseParser", () => {
  it("joins repeated headers, takes the body chunk by chunk, and says when the connection can be reused", () => {
    const p = new ResponseParser(false);
    expect(p.push(Buffer.from("HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"))).toBeNull();
    const r = p.push(Buffer.from("2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n"));
    expect(r!.headers["x-a"]).toBe("1, 2");
    expect(text(r!.body)).toBe("abcde");
    expect(p.reusable).toBe(true);
  });

  it("no body for HEAD, 204 and 304; malformed answers are errors", () => {
    expect(text(new ResponseParser(true).push(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))!.body)).toBe("");
    expect(new ResponseParser(false).push(Buffer.from("HTTP/1.1 204 No Content\r\n\r\n"))!.statusCode).toBe(204);
    expect(() => new ResponseParser(false).push(Buffer.from("SMTP ready\r\n\r\n"))).toThrow(/malformed/);
    expect(() => new ResponseParser(false).push(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"))).toThrow(/content-length/);
    expect(() => new ResponseParser(false).push(Buffer.from("HTTP/1.1 200 OK\r\n" + "x: y\r\n".repeat(20000)))).toThrow(/too large/);
  });

  it("a chunked body cannot make it buffer without bound: an endless chunk-size line, or a chunk larger than the body limit", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const endless = new ResponseParser(false);
    expect(endless.push(Buffer.from(head))).toBeNull();
    expect(() => {
      for (let i = 0; i < 100; i++) endless.push(Buffer.alloc(1024, "f"));
    }).toThrow(/malformed chunked/);
    const huge = new ResponseParser(false);
    expect(() => huge.push(Buffer.from(`${head}FFFFFFFFFF\r\nabc`))).toThrow(/too large/);
  });
});
