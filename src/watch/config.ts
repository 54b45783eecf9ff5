/**
 * The config file's `rotation:` section: actions per variable and per source scheme.
 *
 *   rotation:
 *     actions: { TLS_CERT: "signal:HUP", FEATURE_FLAGS: none }
 *     sources: { vault: restart, file: none }
 *     poll: { aws-sm: 5m, vault: 30s }        # per-source --poll-interval
 */
import { registerSection, section } from "../config/sections.ts";
import { checkKeys, expectObject, expectString, type FieldPath } from "../config/validate.ts";
import { parseDuration } from "../config/settings.ts";
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

function durationMap(v: unknown, at: FieldPath): Record<string, number> {
  const o = expectObject(v, at);
  const out: Record<string, number> = {};
  for (const [k, raw] of Object.entries(o)) {
    const ms = typeof raw === "number" ? parseDuration(String(raw)) : typeof raw === "string" ? parseDuration(raw) : null;
    if (ms === null) throw at.child(k).fail(raw, "expected a duration such as 30s, 5m or 0 (no polling)");
    out[k] = ms;
  }
  return out;
}

let done = false;
export function registerRotationSection(): void {
  if (done) return;
  done = true;
  registerSection<ActionRules>("rotation", {
    help: "rotation actions per variable (actions:) and per source scheme (sources:), poll interval per source scheme (poll:)",
    validate(value, at) {
      const o = expectObject(value, at);
      checkKeys(o, ["actions", "sources", "poll"], at);
      return {
        ...(o.actions !== undefined ? { byName: actionMap(o.actions, at.child("actions")) } : {}),
        ...(o.sources !== undefined ? { bySource: actionMap(o.sources, at.child("sources")) } : {}),
        ...(o.poll !== undefined ? { pollBySource: durationMap(o.poll, at.child("poll")) } : {}),
      };
    },
  });
}

export function rotationRules(): ActionRules | undefined {
  return section<ActionRules>("rotation");
}
