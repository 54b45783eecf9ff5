import { silenceExperimentalWarnings } from "../platform/warnings.ts";
import { runShim } from "./shim.ts";

export function shimEntry(): never {
  silenceExperimentalWarnings(); // process.execve is experimental: no warning into the app's stderr
  return runShim();
}
