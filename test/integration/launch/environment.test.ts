/**
 * The app's argv and environment arrive byte for byte: latchkey encodes them itself for
 * posix_spawn (platform/spawn.ts), with a shortcut when every string is ASCII, and hands them
 * to process.execve in exec mode.
 */
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";

// each printed as a line of hex bytes, so nothing in between can re-encode them
const dump = ["/bin/sh", "-c", 'for v in "$A" "$B" "$1" "$2"; do printf %s "$v" | od -An -tx1 | tr -d " \\n"; echo; done', "sh"];
const hex = (s: string) => Buffer.from(s).toString("hex");

describe.each([["supervise mode", []], ["exec mode", ["--exec"]]])("%s", (_, mode) => {
  it.each([
    ["ASCII only", { A: "plain", B: "x=y" }, ["one", "two words"]],
    ["non-ASCII in the environment and argv (two-, three- and four-byte UTF-8)", { A: "grüße", B: "€ 😀" }, ["naïve", "日本"]],
  ])("%s", async (_, env, args) => {
    const r = await latchkey([...mode, "--", ...dump, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([env.A, env.B, ...args].map(hex));
  });
});
