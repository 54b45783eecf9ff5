/**
 * Issue #12, finding 13: text taken from the environment (a command path, a file path in an
 * error) reached text-format log lines raw, so ESC sequences reached the operator's terminal
 * (ESC[2J clears it) and a newline forged a second, fake, `latchkey:` line. Every log line must
 * be one physical line with its control characters escaped, in both formats, and redaction must
 * still mask a secret that contains a control character.
 *
 * Run against the built binary with real files whose names carry the characters.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../helpers/run.ts";
import { cleanEnv, tmp } from "../integration/gate/net.ts";

/** Control characters that must never reach stderr raw (the line's own final \n aside). */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

const FORGED = "latchkey: error: forged line";

/** An executable named `name` in a fresh directory; it exits 0. */
function app(name: string): string {
  const dir = join(tmp(), "bin");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, 0o755);
  return path;
}

function lines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "");
}

describe("log lines escape control characters (issue #12, finding 13)", () => {
  const names: Array<[string, string]> = [
    ["ESC[2J, no space", "clear\u001b[2Jscreen"],
    ["ESC[2J and a newline that forges a line", `a\u001b[2J\n${FORGED}`],
    ["DEL, a C1 control (CSI), NEL and the line/paragraph separators", "x\u007fy\u009b2J\u0085z\u2028w\u2029v"],
    ["a carriage return and a tab", "left\rright\tcol"],
  ];

  for (const [what, name] of names) {
    it(`text format, a logged field (the app's command), ${what}: one escaped line`, async () => {
      const path = app(name);
      const r = await latchkey(["--log-level", "info", "--", path], { env: cleanEnv({ HOME: tmp() }) });
      expect(r.code, r.stderr).toBe(0);
      const started = lines(r.stderr).filter((l) => l.includes("app started"));
      expect(started).toHaveLength(1);
      expect(RAW.test(r.stderr.replaceAll("\n", "")), "a raw control character in stderr").toBe(false);
      for (const l of lines(r.stderr)) expect(l.startsWith("latchkey: "), `a physical line that is not latchkey's: ${JSON.stringify(l)}`).toBe(true);
      expect(r.stderr).not.toContain(`\n${FORGED}`);
      // The field reads back as the exact name: quoted and escaped as a JSON string.
      const m = / command=("(?:[^"\\]|\\.)*")/.exec(started[0]!);
      expect(m, started[0]).not.toBeNull();
      expect(JSON.parse(m![1]!)).toBe(path);
    });

    it(`json format, ${what}: one line that parses back to the exact value`, async () => {
      const path = app(name);
      const r = await latchkey(["--log-level", "info", "--log-format", "json", "--", path], { env: cleanEnv({ HOME: tmp() }) });
      expect(r.code, r.stderr).toBe(0);
      expect(RAW.test(r.stderr.replaceAll("\n", "")), "a raw control character in stderr").toBe(false);
      const recs = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
      const started = recs.filter((x) => x.msg === "app started");
      expect(started).toHaveLength(1);
      expect(started[0]!.command).toBe(path);
    });
  }

  it("text format, an error message quoting a path with ESC[2J: escaped in the message too", async () => {
    const missing = join(tmp(), "no\u001b[2Jsuch\u009bfile");
    const r = await latchkey(["--file-vars", "X", "--", "true"], { env: cleanEnv({ HOME: tmp(), X_FILE: missing }) });
    expect(r.code).toBe(66);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(RAW.test(r.stderr.replaceAll("\n", "")), "a raw control character in stderr").toBe(false);
    expect(r.stderr).toContain("no\\u001b[2Jsuch\\u009bfile");
  });

  it("a secret containing control characters is still redacted, in both formats", async () => {
    // A dotenv value is registered as a secret; the same text as a NAME_FILE path is quoted back
    // in the error, so the line carries the secret and must show [redacted] instead.
    const secret = `/nonexistent/ctl\u001b[2J\u007fsecret\u0085canary-7c1e`;
    const dir = tmp();
    writeFileSync(join(dir, "app.env"), `LEAKY=${secret}\n`);
    for (const fmt of ["text", "json"]) {
      const r = await latchkey(["--log-format", fmt, "--log-level", "debug", "--dotenv", join(dir, "app.env"), "--file-vars", "X", "--", "true"], {
        env: cleanEnv({ HOME: tmp(), X_FILE: secret }),
      });
      expect(r.code).toBe(66);
      expect(r.stderr).toContain("[redacted]");
      // Neither the raw value nor any escaped spelling of it, nor its tail.
      expect(r.stderr.includes("canary-7c1e"), `${fmt}: the secret's text reached stderr`).toBe(false);
      expect(RAW.test(r.stderr.replaceAll("\n", "")), `${fmt}: a raw control character in stderr`).toBe(false);
    }
  });

  it("an error message quoting a path with a newline: the whole message, escaped, on one line", async () => {
    const missing = join(tmp(), "first\nsecond-half-of-the-name");
    const r = await latchkey(["--file-vars", "X", "--", "true"], { env: cleanEnv({ HOME: tmp(), X_FILE: missing }) });
    expect(r.code).toBe(66);
    expect(lines(r.stderr)).toHaveLength(1);
    // cut at the newline, the operator would read a path that does not exist
    expect(r.stderr).toContain("first\\nsecond-half-of-the-name");
  });
});
