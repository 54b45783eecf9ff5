/**
 * The gate's and the health probe's options, registered into the shared flag table (so
 * they get env vars, config-file keys and help lines like every other option) and the
 * `health` subcommand. Imported by main.ts and by the health fast path; data only, so
 * importing it costs nothing.
 *
 * Config file (the loader from the file-secrets work maps keys to these flags): `wait:` is a
 * list of the same URLs as --wait, `preStart:` a list of commands, `waitTimeout:`,
 * `statusAddr:`, `ready:` single values.
 */
import { registerFlags, registerGroup } from "../cli/flags.ts";
import { registerSubcommand } from "../cli/parse.ts";
import { registerSubcommandHelp } from "../cli/usage.ts";

registerGroup("gate", "Startup gate (runs before the app starts)");
registerGroup("health", "Health probes and status endpoint");

registerFlags([
  { name: "wait", type: "string", multiple: true, env: "LATCHKEY_WAIT", value: "URL", group: "gate",
    help: "wait until URL is ready: tcp://HOST:PORT, http(s)://HOST/PATH, unix:///PATH, file:///PATH; " +
      "options after '#': status=200-299, body=TEXT, timeout=30s, ca=FILE, insecure (repeatable; checked concurrently)" },
  { name: "wait-timeout", type: "string", env: "LATCHKEY_WAIT_TIMEOUT", value: "DURATION", default: "60s", group: "gate",
    help: "give up on the waits after DURATION, overall and per check (a check's #timeout= can only shorten it)" },
  { name: "pre-start", type: "string", multiple: true, envSeparator: "newline", env: "LATCHKEY_PRE_START", value: "CMD", group: "gate",
    help: "run CMD after the waits, in order, as the app user with the app's environment; no shell: " +
      "quote words, or use sh -c '...' (repeatable; newline-separated in the env var)" },
  { name: "status-addr", type: "string", env: "LATCHKEY_STATUS_ADDR", value: "HOST:PORT", group: "health",
    help: "serve /health, /health/liveness, /health/readiness, /health/startup on HOST:PORT (supervise mode; off by default)" },
  { name: "ready", type: "string", env: "LATCHKEY_READY", value: "URL", group: "health",
    help: "/health/readiness also probes the app at URL (http, tcp or unix)" },
  { name: "timeout", type: "string", env: "LATCHKEY_HEALTH_TIMEOUT", value: "DURATION", default: "5s", group: "health",
    help: "latchkey health: give up (unhealthy) after DURATION" },
  { name: "status", type: "boolean", env: "LATCHKEY_HEALTH_STATUS", group: "health",
    help: "latchkey health: probe latchkey's own status endpoint (--status-addr) instead of a URL" },
]);

registerSubcommand("health");
registerSubcommandHelp("latchkey health [--timeout DURATION] URL",
  "probe URL once (http, https, tcp, unix): exit 0 healthy, 1 unhealthy; for HEALTHCHECK in images without curl");
registerSubcommandHelp("latchkey health --status [liveness|readiness|startup]",
  "probe the status endpoint of the latchkey running in this container (address from --status-addr)");
