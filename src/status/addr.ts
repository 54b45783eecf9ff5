/** `HOST:PORT`, `:PORT`, `[::1]:PORT` for --status-addr. */
export interface Addr {
  host: string;
  port: number;
}

export function parseAddr(raw: string): Addr | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(raw.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
}

/** Where a local client should connect to reach a server bound to `a` (0.0.0.0 is not a destination). */
export function clientUrl(a: Addr, path: string): string {
  const host = a.host === "0.0.0.0" ? "127.0.0.1" : a.host === "::" ? "::1" : a.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${a.port}${path}`;
}
