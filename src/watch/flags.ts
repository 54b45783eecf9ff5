/**
 * Rotation's options, registered into the shared flag table (flag, env var, config key, help).
 * main.ts calls registerRotationFlags() before parsing.
 */
import { registerFlags, registerGroup, type FlagDef } from "../cli/flags.ts";

const ROTATION_FLAGS: FlagDef[] = [
  { name: "on-change", type: "string", env: "LATCHKEY_ON_CHANGE", value: "ACTION", default: "restart", group: "rotation",
    help: "when a secret's value changes: restart (stop the app, start it with the new env), signal:SIG (e.g. signal:HUP; use with --render), or none (record only)" },
  { name: "debounce", type: "string", env: "LATCHKEY_DEBOUNCE", value: "DURATION", default: "1s", group: "rotation",
    help: "quiet time after the last change before acting, so that a burst of changes becomes one action" },
  { name: "debounce-max", type: "string", env: "LATCHKEY_DEBOUNCE_MAX", value: "DURATION", default: "10s", group: "rotation",
    help: "act at the latest DURATION after the first change of a burst, even if changes keep coming" },
  { name: "poll-interval", type: "string", env: "LATCHKEY_POLL_INTERVAL", value: "DURATION", default: "60s", group: "rotation",
    help: "how often to ask secret managers for new versions (±10% jitter; failures back off up to 10 intervals, max 5m) and to re-check watched files; 0 = never" },
  { name: "restart-splay", type: "string", env: "LATCHKEY_RESTART_SPLAY", value: "DURATION", default: "0s", group: "rotation",
    help: "wait a random time up to DURATION before a rotation restart, so that a fleet does not restart at once" },
  { name: "render", type: "string", env: "LATCHKEY_RENDER", value: "DIR", group: "rotation",
    help: "also write each secret to DIR/NAME (mode 0400, owned by the app user, replaced atomically) for apps that re-read files on a signal" },
  { name: "restart-on-exit", type: "boolean", env: "LATCHKEY_RESTART_ON_EXIT", group: "rotation",
    help: "when the app exits on its own, start it again (with backoff) instead of exiting with its code" },
];

let done = false;
export function registerRotationFlags(): void {
  if (done) return;
  done = true;
  registerGroup("rotation", "Rotation (supervise mode)");
  registerFlags(ROTATION_FLAGS);
}
