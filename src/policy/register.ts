/**
 * Wiring of the reference policy at startup: the `--policy FILE` flag, the config file's
 * `policy:` section, and a check on every reference before anything is fetched. Every
 * reference, policy or not, must be written in canonical form (checkCanonical). vault://
 * references are matched by the Vault source, once the mount tells the API path
 * (`secret/app` and `secret/data/app` are the same secret on KV v2); file:// references by
 * the file source, on the real path it opens.
 */
import { registerSection } from "../config/sections.ts";
import { Settings } from "../config/settings.ts";
import { addReferenceCheck } from "../env/references.ts";
import { getRunSettings } from "../sources/source.ts";
import { checkFileParams } from "../sources/file/index.ts";
import { activePolicies } from "./active.ts";
import { registerPolicyFlags } from "./flags.ts";
import { checkCanonical, checkReference, parsePolicy } from "./policy.ts";

let done = false;
export function registerPolicy(): void {
  if (done) return;
  done = true;
  registerPolicyFlags();
  registerSection("policy", { help: "allow-list of references per provider (allow, deny, write, unlisted)", validate: (v, at) => parsePolicy(v, at.file) });
  addReferenceCheck((ref, variable) => {
    checkCanonical(ref, `${variable}: ${ref.raw}`);
    if (ref.scheme === "file") checkFileParams(ref, `${variable}: ${ref.raw}`);
    if (ref.scheme === "vault" || ref.scheme === "file") return;
    const settings = getRunSettings() ?? new Settings({ flags: {}, env: process.env });
    const policies = activePolicies(settings);
    if (policies.length) checkReference(policies, ref, undefined, `${variable}: ${ref.raw}`);
  });
}
