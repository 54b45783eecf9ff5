/** tcp:// and unix://: the check passes when a connect succeeds; nothing is sent. */
import { connect, type NetConnectOpts } from "node:net";
import { classifyError, failed, passed, type Attempt } from "./outcome.ts";

export function probeSocket(opts: NetConnectOpts, signal: AbortSignal, host?: string): Promise<Attempt> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(failed("timeout", "timed out"));
    const sock = connect(opts);
    const finish = (a: Attempt) => {
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      resolve(a);
    };
    const onAbort = () => finish(failed("timeout", "timed out before a connection was made"));
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => finish(passed("connected")));
    sock.once("error", (e) => finish(classifyError(e, host)));
  });
}
