/**
 * The config file's `rotation:` section: actions per variable and per source scheme.
 *
 *   rotation:
 *     actions: { TLS_CERT: "signal:HUP", FEATURE_FLAGS: none }
 *     sources: { vault: restart, file: none }
 */
import { registerSection, section } from "../config/sections.ts";
import { checkKeys, expectObject, expectString, type FieldPath } from "../config/validate.ts";
import { parseAction, type Action } from "./options.ts";
import type { ActionRules } from "./secret-set.ts";

const HINT = "expected restart, none, or signal:NAME (e.g. signal:HUP)";

function actionMap(v: unknown, at: FieldPath): Record<string, Action> {
  const o = expectObject(v, at);
  const out: Record<string, Action> = {};
  for (const [k, raw] of Object.entries(o)) {
    const s = expectString(raw, at.child(k));
    const a = parseAction(s);
    if (!a) throw at.child(k).fail(raw, HINT);
    out[k] = a;
  }
  return out;
}

let done = false;
export function registerRotationSection(): void {
  if (done) return;
  done = true;
  registerSection<ActionRules>("rotation", {
    help: "rotation actions per variable (actions:) and per source scheme (sources:)",
    validate(value, at) {
      const o = expectObject(value, at);
      checkKeys(o, ["actions", "sources"], at);
      return {
        ...(o.actions !== undefined ? { byName: actionMap(o.actions, at.child("actions")) } : {}),
        ...(o.sources !== undefined ? { bySource: actionMap(o.sources, at.child("sources")) } : {}),
      };
    },
  });
}

export function rotationRules(): ActionRules | undefined {
  return section<ActionRules>("rotation");
}
