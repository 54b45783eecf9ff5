/**
 * The few libc calls Node does not expose, through `node:ffi` (Node 26, `--experimental-ffi`,
 * baked into the single executable's execArgv). Loaded on first use; when FFI is missing
 * (the .cjs bundle run without the flag) `libc()` returns null and callers degrade loudly.
 */
export interface Libc {
  waitid(idtype: number, id: number, info: Buffer, options: number): number;
  waitpid(pid: number, status: Buffer, options: number): number;
  prctl(option: number, a2: bigint, a3: bigint, a4: bigint, a5: bigint): number;
  setpgid(pid: number, pgid: number): number;
  getpgrp(): number;
  tcgetpgrp(fd: number): number;
  tcsetpgrp(fd: number, pgrp: number): number;
  signal(sig: number, handler: bigint): bigint;
  kill(pid: number, sig: number): number;
  sigprocmask(how: number, set: Buffer, old: Buffer): number;
  setresuid(ruid: number, euid: number, suid: number): number;
  errno(): number;
}

export const P_ALL = 0;
export const WNOHANG = 1;
export const WEXITED = 4;
export const WNOWAIT = 0x01000000;
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_GET_CHILD_SUBREAPER = 37;
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;
export const ECHILD = 10;
export const ESRCH = 3;

let cached: Libc | null | undefined;
let loadError: string | undefined;

export function libc(): Libc | null {
  if (cached !== undefined) return cached;
  try {
    // getBuiltinModule: esbuild leaves it alone, and it throws cleanly when the flag is off.
    const ffi = process.getBuiltinModule("node:ffi") as unknown as FfiModule | undefined;
    if (!ffi) throw new Error("node:ffi is not available in this Node");
    const { functions: f } = ffi.dlopen("libc.so.6", {
      waitid: { arguments: ["int32", "uint32", "buffer", "int32"], return: "int32" },
      waitpid: { arguments: ["int32", "buffer", "int32"], return: "int32" },
      prctl: { arguments: ["int32", "uint64", "uint64", "uint64", "uint64"], return: "int32" },
      setpgid: { arguments: ["int32", "int32"], return: "int32" },
      getpgrp: { arguments: [], return: "int32" },
      tcgetpgrp: { arguments: ["int32"], return: "int32" },
      tcsetpgrp: { arguments: ["int32", "int32"], return: "int32" },
      signal: { arguments: ["int32", "uint64"], return: "uint64" },
      kill: { arguments: ["int32", "int32"], return: "int32" },
      sigprocmask: { arguments: ["int32", "buffer", "buffer"], return: "int32" },
      setresuid: { arguments: ["uint32", "uint32", "uint32"], return: "int32" },
      __errno_location: { arguments: [], return: "pointer" },
    });
    const fn = f as unknown as Record<string, (...a: unknown[]) => unknown>;
    const call = (name: string) => fn[name] as (...a: unknown[]) => never;
    cached = {
      waitid: call("waitid"),
      waitpid: call("waitpid"),
      prctl: call("prctl"),
      setpgid: call("setpgid"),
      getpgrp: call("getpgrp"),
      tcgetpgrp: call("tcgetpgrp"),
      tcsetpgrp: call("tcsetpgrp"),
      signal: call("signal"),
      kill: call("kill"),
      sigprocmask: call("sigprocmask"),
      setresuid: call("setresuid"),
      errno: () => ffi.getInt32(call("__errno_location")()),
    };
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    cached = null;
  }
  return cached;
}

export function libcLoadError(): string | undefined {
  return loadError;
}

interface FfiModule {
  dlopen(path: string, defs: Record<string, { arguments: string[]; return: string }>): { functions: unknown };
  getInt32(ptr: unknown): number;
}
