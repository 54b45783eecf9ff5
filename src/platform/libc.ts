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
  isatty(fd: number): number;
  posix_spawn(pid: Buffer, path: Buffer, fileActions: bigint, attr: Buffer, argv: Buffer, envp: Buffer): number;
  /** fcntl(fd, cmd, int): variadic in C; called with one int argument (F_GETFD/F_SETFD). */
  fcntl(fd: number, cmd: number, arg: number): number;
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

type Signature = { arguments: string[]; return: string };
const SIGNATURES: Record<Exclude<keyof Libc, "errno"> | "__errno_location", Signature> = {
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
  isatty: { arguments: ["int32"], return: "int32" },
  posix_spawn: { arguments: ["buffer", "buffer", "pointer", "buffer", "buffer", "buffer"], return: "int32" },
  fcntl: { arguments: ["int32", "int32", "int32"], return: "int32" },
  __errno_location: { arguments: [], return: "pointer" },
};

let cached: Libc | null | undefined;
let pointerOf: ((b: Buffer) => bigint) | null = null;
let loadError: string | undefined;

export function libc(): Libc | null {
  if (cached !== undefined) return cached;
  try {
    // getBuiltinModule: esbuild leaves it alone, and it throws cleanly when the flag is off.
    const ffi = process.getBuiltinModule("node:ffi") as unknown as FfiModule | undefined;
    if (!ffi) throw new Error("node:ffi is not available in this Node");
    const lib = new ffi.DynamicLibrary("libc.so.6");
    // A missing symbol fails here, as a whole, not at some later call (dlsym is cheap).
    for (const name of Object.keys(SIGNATURES)) lib.getSymbol(name);
    // Each function is bound on its first call: binding all of them up front cost ~0.8 ms of
    // every start (measured here), and most runs call only a few.
    const bound = new Map<string, (...a: unknown[]) => never>();
    const fn = (name: keyof typeof SIGNATURES) => (...a: unknown[]) => {
      let f = bound.get(name);
      if (!f) {
        f = lib.getFunction(name, SIGNATURES[name]) as (...a: unknown[]) => never;
        bound.set(name, f);
      }
      return f(...a);
    };
    // Bound now: binding it lazily, between a failed call and the errno read, could clobber errno.
    const errnoLocation = lib.getFunction("__errno_location", SIGNATURES.__errno_location) as () => unknown;
    pointerOf = (b: Buffer) => ffi.getRawPointer(b);
    const names = Object.keys(SIGNATURES).filter((n) => n !== "__errno_location") as Array<keyof typeof SIGNATURES>;
    cached = {
      ...Object.fromEntries(names.map((n) => [n, fn(n)])),
      errno: () => ffi.getInt32(errnoLocation()),
    } as Libc;
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    cached = null;
  }
  return cached;
}

/** The address of a Buffer's bytes, for arrays of pointers (posix_spawn's argv); null without FFI. */
export function rawPointer(): ((b: Buffer) => bigint) | null {
  libc();
  return pointerOf;
}

export function libcLoadError(): string | undefined {
  return loadError;
}

interface FfiModule {
  DynamicLibrary: new (path: string) => { getFunction(name: string, signature: Signature): unknown; getSymbol(name: string): unknown };
  getInt32(ptr: unknown): number;
  getRawPointer(b: Buffer): bigint;
}
