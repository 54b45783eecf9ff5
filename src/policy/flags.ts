/**
 * `--policy FILE` (LATCHKEY_POLICY): a reference allow-list kept apart from the app's config,
 * so the platform can mount it read-only where the image and its env cannot change it.
 */
import { registerFlags, registerGroup } from "../cli/flags.ts";

let registered = false;
export function registerPolicyFlags(): void {
  if (registered) return;
  registered = true;
  registerGroup("policy", "Reference policy");
  registerFlags([
    { name: "policy", type: "string", env: "LATCHKEY_POLICY", value: "FILE", group: "policy",
      help: "reference allow-list (YAML/JSON): which vault://, aws-sm://, file:// references may be used; outside it, startup fails. Adds to /etc/latchkey/policy.yaml, which always applies when it exists" },
  ]);
}
