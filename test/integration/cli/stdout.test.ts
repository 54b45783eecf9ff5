/**
 * latchkey's own stdout is written with write(2) on fd 1 (src/cli/stdout.ts): every byte must
 * arrive when fd 1 is a non-blocking pipe that fills up (the stream takes over and the exit
 * waits for it), and a reader that went away is no error.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LATCHKEY } from "../../helpers/paths.ts";
import { run } from "../../helpers/run.ts";

const dir = mkdtempSync(join(tmpdir(), "latchkey-stdout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Runs argv with fd 1 a pipe: non-blocking and read only after `delay` s (so it fills), or closed at once.
const PIPE = String.raw`
import fcntl, os, subprocess, sys, time
mode, delay, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
r, w = os.pipe()
if mode == "closed":
    os.close(r)
else:
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(argv, stdout=w, stderr=subprocess.PIPE)
os.close(w)
out = b""
if mode != "closed":
    time.sleep(delay)
    while True:
        b = os.read(r, 65536)
        if not b: break
        out += b
err = p.stderr.read()
code = p.wait()
sys.stdout.write(f"code={code} bytes={len(out)} err={err.decode()!r}\n")
sys.stdout.buffer.write(out)
`;

describe("latchkey's stdout", () => {
  it("all of a large `check` table arrives through a full non-blocking pipe", async () => {
    const secrets = join(dir, "secrets");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(secrets);
    for (let i = 0; i < 2000; i++) writeFileSync(join(secrets, `app-secret-${String(i).padStart(4, "0")}`), `v${i}-not-printed`);
    // a fixed fingerprint key: with the default per-run key the two reports would differ
    const key = join(dir, "fingerprint.key");
    writeFileSync(key, "0123456789abcdef0123456789abcdef");
    const direct = await run(LATCHKEY, ["check", "--secrets-dir", secrets, "--fingerprint-key-file", key]);
    expect(direct.code).toBe(0);
    expect(direct.stdout.length).toBeGreaterThan(2 * 65536); // more than a pipe holds
    const r = await run("python3", ["-c", PIPE, "nonblocking", "1", LATCHKEY, "check", "--secrets-dir", secrets, "--fingerprint-key-file", key]);
    const [head, ...rest] = r.stdout.split("\n");
    expect(head).toBe(`code=0 bytes=${Buffer.byteLength(direct.stdout)} err=''`);
    expect(rest.join("\n")).toBe(direct.stdout);
  });

  it("a reader that closed its end is not an error", async () => {
    const r = await run("python3", ["-c", PIPE, "closed", "0", LATCHKEY, "help"]);
    expect(r.stdout.trim()).toBe("code=0 bytes=0 err=''");
  });
});
