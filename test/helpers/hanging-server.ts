import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";

/**
 * An HTTP server on 127.0.0.1 that accepts every request and never answers: a secret manager
 * that hangs, to hold latchkey in "load secrets" for as long as a test wants. Started and
 * stopped with the calling test file; `url()` is valid inside tests.
 */
export function hangingServer(): { url: () => string } {
  let server: Server;
  let url = "";
  beforeAll(async () => {
    server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: () => url };
}
