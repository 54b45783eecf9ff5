import { describe, expect, it } from "vitest";
import { decodeWaitStatus } from "../../../src/supervisor/child.ts";

// Raw waitpid statuses as the kernel builds them: exit code in bits 8-15, a fatal signal in bits 0-6.
describe("decodeWaitStatus", () => {
  it("an exit code passes through, every one of 0-255", () => {
    for (let code = 0; code < 256; code++) {
      expect(decodeWaitStatus(code << 8)).toEqual({ code, signal: null, exitCode: code });
    }
  });

  it("death by signal n is 128+n with the signal's name", () => {
    expect(decodeWaitStatus(15)).toEqual({ code: null, signal: "SIGTERM", exitCode: 143 });
    expect(decodeWaitStatus(9)).toEqual({ code: null, signal: "SIGKILL", exitCode: 137 });
    // the core-dump flag (0x80) does not change the signal
    expect(decodeWaitStatus(0x80 | 11)).toEqual({ code: null, signal: "SIGSEGV", exitCode: 139 });
  });
});
