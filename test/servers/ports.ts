/**
 * A port nothing listens on yet, for a server a test starts a moment later (moto, OpenBao,
 * PostgreSQL, the gate's late listeners). Taken below the kernel's ephemeral range: a port from
 * listen(0) is an ephemeral one, and while it waits, any outgoing connection on the machine (a
 * parallel test file, latchkey's own connection attempts) may get it as its source port, and
 * then the server fails with EADDRINUSE. Seen in the gate benchmark with 20 checks, and in CI as
 * OpenBao's "bind: address already in use" for a TLS listener on a port from listen(0).
 * Parallel test files are separate processes, so a collision is still possible: servers retry
 * with a new port.
 */
import { createServer } from "node:net";
import { readFileSync } from "node:fs";

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  for (let i = 0; i < 200; i++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (handedOut.has(port)) continue;
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once("error", () => r(false));
      s.listen(port, "127.0.0.1", () => r(true));
    });
    if (!ok) continue;
    await new Promise<void>((r) => s.close(() => r()));
    handedOut.add(port);
    return port;
  }
  throw new Error("freePort: no free port below the ephemeral range");
}
