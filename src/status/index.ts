/**
 * Start the status endpoint when --status-addr is set. The HTTP server module is loaded only
 * then, so runs without it do not pay for node:http.
 */
import type { Logger } from "../log/logger.ts";
import type { GateConfig } from "../gate/config.ts";
import { StatusState } from "./state.ts";
import type { StatusServer } from "./server.ts";

export interface Status {
  state: StatusState;
  server: StatusServer;
}

export async function startStatus(config: GateConfig, log: Logger): Promise<Status | undefined> {
  if (!config.statusAddr) return undefined;
  const { startStatusServer } = await import("./server.ts");
  const state = new StatusState();
  const server = await startStatusServer(config.statusAddr, state, log, config.ready);
  return { state, server };
}
