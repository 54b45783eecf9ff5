/** file:///PATH: the check passes when the file exists (a readiness marker another process writes). */
import { stat } from "node:fs/promises";
import { classifyError, failed, passed, type Attempt } from "./outcome.ts";

export async function probeFile(path: string): Promise<Attempt> {
  try {
    const st = await stat(path);
    return passed(st.isDirectory() ? "directory exists" : "file exists");
  } catch (e) {
    const a = classifyError(e);
    return a.reason === "missing" ? failed("missing", "no such file") : a;
  }
}
