/**
 * The few libc calls Node does not expose, through `node:ffi` (Node 26, `--experimental-ffi`,
 * baked into the single executable's execArgv). Loaded on first use; when FFI is missing
 * (the .cjs bundle run without the flag) `libc()` returns null and callers degrade loudly.
 * Most of them are system calls made through syscall(2) (SYS below); test/unit/platform/
 * libc.test.ts checks them against glibc's functions of the same name.
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
  _exit(code: number): never;
  posix_spawn(pid: Buffer, path: Buffer, fileActions: bigint, attr: Buffer, argv: Buffer, envp: Buffer): number;
  /** fcntl(fd, cmd, int): variadic in C; called with one int argument (F_GETFD/F_SETFD). */
  fcntl(fd: number, cmd: number, arg: number): number;
  errno(): number;
  // --- the process boundary between latchkey and the app (platform/boundary.ts) ---
  /** prlimit64(2): `next`/`old` are struct rlimit64 (two u64: soft, hard) or null. */
  prlimit(pid: number, resource: number, next: Buffer | null, old: Buffer | null): number;
  /** close_range(2); -1 on kernels before 5.9/5.11 and off x86-64 (callers fall back on any failure). */
  closeRange(first: number, last: number, flags: number): number;
  /** setresuid(2) as the bare system call: the calling thread's ids only (glibc's changes every thread). */
  setresuidThread(ruid: number, euid: number, suid: number): number;
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
// the process boundary (platform/boundary.ts)
export const PR_SET_DUMPABLE = 4;
export const PR_GET_DUMPABLE = 3;
export const PR_SET_NO_NEW_PRIVS = 38;
export const RLIMIT_CORE = 4;
export const CLOSE_RANGE_CLOEXEC = 4;
export const ESRCH = 3;

type Signature = { arguments: string[]; return: string };
/**
 * syscall(2)'s: the number and six words. posix_spawn is bound with it too (SIGNATURES says
 * why). The first word is declared a pointer (posix_spawn's is one; a system call number is
 * never negative, which is all a pointer argument adds to its checks): node:ffi then wraps
 * the binding with its general invoker instead of building one of its numeric-only
 * specializations, whose builder is compiled from source at the first binding: ~0.05 ms less
 * per start, measured here. Every argument is passed in a 64-bit register either way.
 */
const SEVEN_WORDS: Signature = { arguments: ["pointer", "int64", "int64", "int64", "int64", "int64", "int64"], return: "int64" };
/**
 * Bound from glibc by name: those where glibc does more than the system call (said beside
 * them), the few off the start path, and syscall (bound at load; the others on first use).
 * SYS below has the bare system calls.
 */
const SIGNATURES = {
  // glibc applies set*id to every thread of the process (the kernel changes only the caller's)
  setresuid: { arguments: ["uint32", "uint32", "uint32"], return: "int32" },
  // glibc supplies the sa_restorer the kernel needs to return from a handler
  signal: { arguments: ["int32", "uint64"], return: "uint64" },
  tcgetpgrp: { arguments: ["int32"], return: "int32" },
  tcsetpgrp: { arguments: ["int32", "int32"], return: "int32" },
  isatty: { arguments: ["int32"], return: "int32" },
  _exit: { arguments: ["int32"], return: "void" },
  // glibc's keeps its internal signals (32, 33) out of a set it blocks
  sigprocmask: { arguments: ["int32", "buffer", "buffer"], return: "int32" },
  // not a system call: clone(CLONE_VM | CLONE_VFORK) + execve (platform/spawn.ts). Bound with
  // syscall's signature: node:ffi then reuses what it built for that one, and binding and first
  // call cost ~0.3 ms less (measured here). The seventh argument is left unread (the caller owns
  // the arguments in every C calling convention), the int result is the low 32 bits.
  posix_spawn: SEVEN_WORDS,
  // only where glibc does not export its errno variable (errnoReader)
  __errno_location: { arguments: [], return: "pointer" },
  // syscall(2): one binding for every call below that is the bare system call in glibc too
  syscall: SEVEN_WORDS,
} satisfies Record<string, Signature>;

/**
 * The calls that glibc makes as the bare system call (x86-64 numbers), all made through one
 * binding of syscall(2): each FFI binding costs ~0.07 ms and its first call as much again
 * (measured here), and every start makes most of these. Same return value (-1 and errno on
 * failure) as the libc functions. sigprocmask is the system call only where it can only
 * unblock: glibc's own removes its internal signals (32, 33) from a set it blocks.
 */
const SYS = { rt_sigprocmask: 14n, fcntl: 72n, wait4: 61n, kill: 62n, setpgid: 109n, getpgrp: 111n, prctl: 157n, waitid: 247n, exit_group: 231n } as const;

/** The process boundary's system calls (platform/boundary.ts): x86-64 numbers, kept apart from SYS. */
const SYS_BOUNDARY = { setresuid: 117n, prlimit64: 302n, close_range: 436n } as const;
/**
 * The same on other architectures, from glibc: prlimit only. close_range (glibc 2.34) is
 * missing from the 2.28 the runtime supports, and a missing symbol fails the whole load, so
 * there closeRange fails (-1) and boundary.ts walks /proc/self/fd; setresuidThread has no
 * glibc function (glibc's setresuid changes every thread) and fails too.
 */
const PORTABLE_BOUNDARY = {
  prlimit: { arguments: ["int32", "int32", "uint64", "uint64"], return: "int32" },
} satisfies Record<string, Signature>;

/** The same calls bound one by one from glibc, on other architectures (dist/latchkey.cjs on an arm64 Node). */
const PORTABLE = {
  waitid: { arguments: ["int32", "uint32", "buffer", "int32"], return: "int32" },
  waitpid: { arguments: ["int32", "buffer", "int32"], return: "int32" },
  prctl: { arguments: ["int32", "uint64", "uint64", "uint64", "uint64"], return: "int32" },
  setpgid: { arguments: ["int32", "int32"], return: "int32" },
  getpgrp: { arguments: [], return: "int32" },
  kill: { arguments: ["int32", "int32"], return: "int32" },
  fcntl: { arguments: ["int32", "int32", "int32"], return: "int32" },
} satisfies Record<string, Signature>;

let cached: Libc | null | undefined;
let pointerOf: ((b: Buffer) => bigint) | null = null;
let loadError: string | undefined;

export function libc(): Libc | null {
  if (cached !== undefined) return cached;
  try {
    cached = loadLibc(process.arch === "x64");
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    cached = null;
  }
  return cached;
}

/**
 * Bind libc: the system calls through syscall(2) when `numbered` (x86-64), else each through
 * glibc's function. Exported for the test that runs both against glibc; callers use libc().
 */
export function loadLibc(numbered: boolean, opts: { errnoVariable?: boolean } = {}): Libc {
  // getBuiltinModule: esbuild leaves it alone, and it throws cleanly when the flag is off.
  const ffi = process.getBuiltinModule("node:ffi") as unknown as FfiModule | undefined;
  if (!ffi) throw new Error("node:ffi is not available in this Node");
  const lib = new ffi.DynamicLibrary("libc.so.6");
  const signatures: Record<string, Signature> = numbered ? SIGNATURES : { ...SIGNATURES, ...PORTABLE, ...PORTABLE_BOUNDARY };
  // A missing symbol fails here, as a whole, not at some later call (dlsym is cheap).
  for (const name of Object.keys(signatures)) lib.getSymbol(name);
  // Each function is bound on its first call: most runs call only a few.
  const bound = new Map<string, (...a: unknown[]) => never>();
  const fn = (name: string) => (...a: unknown[]) => {
    let f = bound.get(name);
    if (!f) {
      f = lib.getFunction(name, signatures[name]!) as (...a: unknown[]) => never;
      bound.set(name, f);
    }
    return f(...a);
  };
  const errno = errnoReader(ffi, lib, opts.errnoVariable !== false);
  const ptr = (b: Buffer) => ffi.getRawPointer(b);
  pointerOf = ptr;
  loadedFrom = { lib, numbered };
  return {
    ...(numbered ? systemCalls(lib, ptr, fn) : {
      waitid: fn("waitid"), waitpid: fn("waitpid"), prctl: fn("prctl"), setpgid: fn("setpgid"),
      getpgrp: fn("getpgrp"), kill: fn("kill"), fcntl: fn("fcntl"), sigprocmask: fn("sigprocmask"), _exit: fn("_exit"),
    }),
    posix_spawn: (pid, path, fileActions, attr, argv, envp) => pinned([pid, path, attr, argv, envp], () =>
      Number(BigInt.asIntN(32, fn("posix_spawn")(ptr(pid), ptr(path), fileActions, ptr(attr), ptr(argv), ptr(envp), 0n) as bigint))),
    ...(numbered ? boundaryCalls(ptr) : portableBoundary(ptr, fn)),
    setresuid: fn("setresuid"),
    signal: fn("signal"),
    tcgetpgrp: fn("tcgetpgrp"),
    tcsetpgrp: fn("tcsetpgrp"),
    isatty: fn("isatty"),
    errno,
  };
}

/**
 * errno, read where it lives. glibc exports its thread-local errno variable (GLIBC_PRIVATE),
 * and dlsym of a thread-local symbol gives the calling thread's copy: the main thread's, the
 * only one that makes these calls. One dlsym instead of binding __errno_location, which is
 * the first (and so the dearest) binding of a start, ~0.1-0.2 ms of it (measured here).
 * Where the variable is not exported, __errno_location is bound now: binding it lazily,
 * between a failed call and the errno read, could clobber errno.
 */
function errnoReader(ffi: FfiModule, lib: FfiLibrary, variable: boolean): () => number {
  let address: unknown;
  if (variable) {
    try {
      address = lib.getSymbol("errno");
    } catch {
      // not exported by this libc
    }
  }
  if (address !== undefined && address !== null && address !== 0n) return () => ffi.getInt32(address);
  const location = lib.getFunction("__errno_location", SIGNATURES.__errno_location) as () => unknown;
  return () => ffi.getInt32(location());
}

type Direct = Pick<Libc, keyof typeof PORTABLE | "sigprocmask" | "_exit">;

function systemCalls(lib: FfiLibrary, ptr: (b: Buffer) => bigint, fn: (name: string) => (...a: unknown[]) => never): Direct {
  // Bound now: binding lazily, between a failed call and the errno read, could clobber errno.
  const syscall = lib.getFunction("syscall", SIGNATURES.syscall) as (...a: bigint[]) => bigint;
  rawSyscall = syscall;
  const sys = (nr: bigint, a = 0n, b = 0n, c = 0n, d = 0n, e = 0n) => Number(syscall(nr, a, b, c, d, e, 0n));
  const I = BigInt;
  return {
    waitid: (idtype, id, info, options) => pinned(info, () => sys(SYS.waitid, I(idtype), I(id), ptr(info), I(options))),
    waitpid: (pid, status, options) => pinned(status, () => sys(SYS.wait4, I(pid), ptr(status), I(options))),
    prctl: (option, a2, a3, a4, a5) => sys(SYS.prctl, I(option), a2, a3, a4, a5),
    setpgid: (pid, pgid) => sys(SYS.setpgid, I(pid), I(pgid)),
    getpgrp: () => sys(SYS.getpgrp),
    kill: (pid, sig) => sys(SYS.kill, I(pid), I(sig)),
    fcntl: (fd, cmd, arg) => sys(SYS.fcntl, I(fd), I(cmd), I(arg)),
    sigprocmask: (how, set, old) => unblocksOnly(how, set)
      ? pinned([set, old], () => sys(SYS.rt_sigprocmask, I(how), ptr(set), ptr(old), I(SIGSET_KERNEL_BYTES)))
      : fn("sigprocmask")(how, set, old),
    // glibc's _exit is exit_group(2); this way the exit needs no binding of its own
    _exit: (code) => {
      sys(SYS.exit_group, I(code & 0xff));
      throw new Error("exit_group returned"); // cannot happen
    },
  };
}

type Boundary = Pick<Libc, "prlimit" | "closeRange" | "setresuidThread">;

function boundaryCalls(ptr: (b: Buffer) => bigint): Boundary {
  const sys = (nr: bigint, a = 0n, b = 0n, c = 0n, d = 0n) => Number(rawSyscall!(nr, a, b, c, d, 0n, 0n)) // systemCalls' binding: a second costs ~0.07 ms a start;
  const I = BigInt;
  const U32 = (n: number) => I(n >>> 0);
  return {
    prlimit: (pid, resource, next, old) => pinned([next, old].filter((b): b is Buffer => b !== null), () =>
      sys(SYS_BOUNDARY.prlimit64, I(pid), I(resource), next ? ptr(next) : 0n, old ? ptr(old) : 0n)),
    closeRange: (first, last, flags) => sys(SYS_BOUNDARY.close_range, U32(first), U32(last), I(flags)),
    setresuidThread: (ruid, euid, suid) => sys(SYS_BOUNDARY.setresuid, U32(ruid), U32(euid), U32(suid)),
  };
}

function portableBoundary(ptr: (b: Buffer) => bigint, fn: (name: string) => (...a: unknown[]) => never): Boundary {
  // callers fall back on any failure of these, whatever errno says
  const unavailable = () => -1;
  return {
    prlimit: (pid, resource, next, old) => pinned([next, old].filter((b): b is Buffer => b !== null), () =>
      fn("prlimit")(pid, resource, next ? ptr(next) : 0n, old ? ptr(old) : 0n)),
    closeRange: unavailable,
    setresuidThread: unavailable,
  };
}

/**
 * Buffers whose addresses a call in progress was given as integers: referenced from here
 * until it returns, so that no collection can free them meanwhile (a "buffer" argument of
 * node:ffi does that itself).
 */
const pins: { now: Buffer | readonly Buffer[] | undefined } = { now: undefined };
function pinned<T>(buffers: Buffer | readonly Buffer[], call: () => T): T {
  pins.now = buffers;
  try {
    return call();
  } finally {
    pins.now = undefined;
  }
}

/** The kernel's sigset_t: 64 signals (glibc's is 1024 bits, of which the kernel reads the first 8 bytes). */
const SIGSET_KERNEL_BYTES = 8;

/** SIG_UNBLOCK, or SIG_SETMASK to an empty set: nothing gets blocked, so glibc's filtering is moot. */
function unblocksOnly(how: number, set: Buffer): boolean {
  return how === SIG_UNBLOCK || (how === SIG_SETMASK && set.every((b) => b === 0));
}

/** libc if something has loaded it already, else null (never loads node:ffi itself). */
export function loadedLibc(): Libc | null {
  return cached ?? null;
}

/** The address of a Buffer's bytes, for arrays of pointers (posix_spawn's argv); null without FFI. */
export function rawPointer(): ((b: Buffer) => bigint) | null {
  libc();
  return pointerOf;
}

export function libcLoadError(): string | undefined {
  return loadError;
}

interface FfiLibrary {
  getFunction(name: string, signature: Signature): unknown;
  getSymbol(name: string): unknown;
}

interface FfiModule {
  DynamicLibrary: new (path: string) => FfiLibrary;
  getInt32(ptr: unknown): number;
  getRawPointer(b: Buffer): bigint;
}

// ---- Descriptor-relative file calls, for src/fileset/ (writing where another user can write) ----
// Node's fs has no *at() calls; these are them. Nothing here is bound or built until a run
// writes a file set (--render, SSH secrets): a plain start pays nothing. On x86-64 they go
// through the syscall(2) binding the start already made; elsewhere each is bound from glibc
// on its first call.

export interface FileCalls {
  openat(dirfd: number, name: string, flags: number, mode: number): number;
  mkdirat(dirfd: number, name: string, mode: number): number;
  unlinkat(dirfd: number, name: string, flags: number): number;
  renameat(oldDirfd: number, oldName: string, newDirfd: number, newName: string): number;
  symlinkat(target: string, dirfd: number, name: string): number;
  /** The link's bytes into `buf`; the length, or -1. `name` "" reads an O_PATH descriptor's own link. */
  readlinkat(dirfd: number, name: string, buf: Buffer): number;
  errno(): number;
}

export const AT_FDCWD = -100;
export const AT_REMOVEDIR = 0x200;
/** Not in Node's fs.constants; the same value on every Linux architecture Node runs on. */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

const SYS_FILES = { openat: 257n, mkdirat: 258n, unlinkat: 263n, renameat: 264n, symlinkat: 266n, readlinkat: 267n } as const;

const PORTABLE_FILES = {
  // variadic in C (the mode); passed as a fourth int, as every Linux ABI Node runs on allows
  openat: { arguments: ["int32", "buffer", "int32", "uint32"], return: "int32" },
  mkdirat: { arguments: ["int32", "buffer", "uint32"], return: "int32" },
  unlinkat: { arguments: ["int32", "buffer", "int32"], return: "int32" },
  renameat: { arguments: ["int32", "buffer", "int32", "buffer"], return: "int32" },
  symlinkat: { arguments: ["buffer", "int32", "buffer"], return: "int32" },
  readlinkat: { arguments: ["int32", "buffer", "buffer", "uint64"], return: "int64" },
} satisfies Record<string, Signature>;

let loadedFrom: { lib: FfiLibrary; numbered: boolean } | undefined;
let rawSyscall: ((...a: bigint[]) => bigint) | undefined;
let fileCallsCached: FileCalls | null | undefined;

/** NUL-terminated, as the kernel reads a path. */
function cString(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

/** The *at() calls, or null when node:ffi is unavailable (callers fail closed: see libcLoadError()). */
export function fileCalls(): FileCalls | null {
  if (fileCallsCached !== undefined) return fileCallsCached;
  const c = libc();
  fileCallsCached = c && loadedFrom ? buildFileCalls(loadedFrom.lib, loadedFrom.numbered, c.errno) : null;
  return fileCallsCached;
}

/** The calls through syscall(2) when `numbered`, else glibc's: for the test that runs both; callers use fileCalls(). */
export function loadFileCalls(numbered: boolean): FileCalls {
  const c = loadLibc(numbered);
  return buildFileCalls(loadedFrom!.lib, numbered, c.errno);
}

function buildFileCalls(lib: FfiLibrary, numbered: boolean, errno: () => number): FileCalls {
  const I = BigInt;
  if (numbered && rawSyscall) {
    const syscall = rawSyscall;
    const ptr = pointerOf!;
    const sys = (nr: bigint, a = 0n, b = 0n, cc = 0n, d = 0n) => Number(syscall(nr, a, b, cc, d, 0n, 0n));
    return {
      openat: (dirfd, name, flags, mode) => { const n = cString(name); return pinned(n, () => sys(SYS_FILES.openat, I(dirfd), ptr(n), I(flags), I(mode))); },
      mkdirat: (dirfd, name, mode) => { const n = cString(name); return pinned(n, () => sys(SYS_FILES.mkdirat, I(dirfd), ptr(n), I(mode))); },
      unlinkat: (dirfd, name, flags) => { const n = cString(name); return pinned(n, () => sys(SYS_FILES.unlinkat, I(dirfd), ptr(n), I(flags))); },
      renameat: (od, on, nd, nn) => {
        const a = cString(on);
        const b = cString(nn);
        return pinned([a, b], () => sys(SYS_FILES.renameat, I(od), ptr(a), I(nd), ptr(b)));
      },
      symlinkat: (target, dirfd, name) => {
        const t = cString(target);
        const n = cString(name);
        return pinned([t, n], () => sys(SYS_FILES.symlinkat, ptr(t), I(dirfd), ptr(n)));
      },
      readlinkat: (dirfd, name, buf) => {
        const n = cString(name);
        return pinned([n, buf], () => sys(SYS_FILES.readlinkat, I(dirfd), ptr(n), ptr(buf), I(buf.length)));
      },
      errno,
    };
  }
  // Bound now, all of them: binding lazily, between a failed call and its errno read, could clobber errno.
  const bound = new Map<string, (...a: unknown[]) => number | bigint>();
  for (const name of Object.keys(PORTABLE_FILES) as (keyof typeof PORTABLE_FILES)[]) {
    bound.set(name, lib.getFunction(name, PORTABLE_FILES[name]) as (...a: unknown[]) => number | bigint);
  }
  const fn = (name: keyof typeof PORTABLE_FILES) => (...a: unknown[]) => Number(bound.get(name)!(...a));
  return {
    openat: (dirfd, name, flags, mode) => fn("openat")(dirfd, cString(name), flags, mode),
    mkdirat: (dirfd, name, mode) => fn("mkdirat")(dirfd, cString(name), mode),
    unlinkat: (dirfd, name, flags) => fn("unlinkat")(dirfd, cString(name), flags),
    renameat: (od, on, nd, nn) => fn("renameat")(od, cString(on), nd, cString(nn)),
    symlinkat: (target, dirfd, name) => fn("symlinkat")(cString(target), dirfd, cString(name)),
    readlinkat: (dirfd, name, buf) => fn("readlinkat")(dirfd, cString(name), buf, I(buf.length)),
    errno,
  };
}

// ---- One thread's credentials: starting the app as another user without a second runtime ----
// Linux keeps uids, gids, supplementary groups and capabilities per thread; glibc's set*id
// functions make every thread of the process do the same call (a signal to each, waited for),
// the bare system calls change the calling thread only. latchkey's main thread takes the
// app's ids for the moment of a posix_spawn or an execve (privileges/drop.ts says how), while
// libuv's threads stay root. x86-64 only (numbered calls through syscall(2)); elsewhere
// threadCredentials() is null and the caller keeps the exec shim.

export interface ThreadCredentials {
  /** [real, effective, saved] of the calling thread, or null on failure. */
  getresuid(): [number, number, number] | null;
  getresgid(): [number, number, number] | null;
  /** The calling thread's supplementary groups, or null on failure. */
  getgroups(): number[] | null;
  /** 0, or -1 and errno. (uid_t)-1 leaves an id unchanged. */
  setresuid(ruid: number, euid: number, suid: number): number;
  setresgid(rgid: number, egid: number, sgid: number): number;
  setgroups(groups: readonly number[]): number;
  errno(): number;
}

const SYS_CREDS = { getgroups: 115n, setgroups: 116n, setresuid: 117n, getresuid: 118n, setresgid: 119n, getresgid: 120n } as const;
/** NGROUPS_MAX (the kernel's limit, 65536): getgroups needs room for all of them. */
const NGROUPS_MAX = 65536;

let threadCredsCached: ThreadCredentials | null | undefined;

/** The calling thread's credential calls, or null where they cannot be made one thread at a time. */
export function threadCredentials(): ThreadCredentials | null {
  if (threadCredsCached !== undefined) return threadCredsCached;
  const c = libc();
  threadCredsCached = c && loadedFrom?.numbered && rawSyscall && pointerOf ? buildThreadCredentials(rawSyscall, pointerOf, c.errno) : null;
  return threadCredsCached;
}

function buildThreadCredentials(syscall: (...a: bigint[]) => bigint, ptr: (b: Buffer) => bigint, errno: () => number): ThreadCredentials {
  const sys = (nr: bigint, a = 0n, b = 0n, cc = 0n) => Number(syscall(nr, a, b, cc, 0n, 0n, 0n));
  const U32 = (n: number) => BigInt(n >>> 0);
  const triple = (nr: bigint): [number, number, number] | null => {
    const ids = Buffer.alloc(12);
    const base = ptr(ids);
    if (pinned(ids, () => sys(nr, base, base + 4n, base + 8n)) !== 0) return null;
    return [ids.readUInt32LE(0), ids.readUInt32LE(4), ids.readUInt32LE(8)];
  };
  return {
    getresuid: () => triple(SYS_CREDS.getresuid),
    getresgid: () => triple(SYS_CREDS.getresgid),
    getgroups: () => {
      const n = sys(SYS_CREDS.getgroups, 0n, 0n); // how many
      if (n < 0 || n > NGROUPS_MAX) return null;
      const list = Buffer.alloc(Math.max(n, 1) * 4);
      const got = pinned(list, () => sys(SYS_CREDS.getgroups, BigInt(n), ptr(list)));
      if (got !== n) return null; // changed meanwhile: cannot happen on this thread, but never guess
      return Array.from({ length: n }, (_, i) => list.readUInt32LE(i * 4));
    },
    setresuid: (r, e, s) => sys(SYS_CREDS.setresuid, U32(r), U32(e), U32(s)),
    setresgid: (r, e, s) => sys(SYS_CREDS.setresgid, U32(r), U32(e), U32(s)),
    setgroups: (groups) => {
      const list = Buffer.alloc(Math.max(groups.length, 1) * 4);
      groups.forEach((g, i) => list.writeUInt32LE(g >>> 0, i * 4));
      return pinned(list, () => sys(SYS_CREDS.setgroups, BigInt(groups.length), ptr(list)));
    },
    errno,
  };
}

/**
 * execve(2) as the bare system call on x86-64 (null elsewhere): `path`, `argv` and `envp` as
 * C strings and NULL-terminated pointer arrays. Returns only on failure (-1, errno).
 * launch/exec.ts says why not process.execve.
 */
export function execveCall(): ((path: Buffer, argv: Buffer, envp: Buffer) => number) | null {
  const c = libc();
  if (!c || !loadedFrom?.numbered || !rawSyscall || !pointerOf) return null;
  const syscall = rawSyscall;
  const ptr = pointerOf;
  return (path, argv, envp) => pinned([path, argv, envp], () => Number(syscall(59n, ptr(path), ptr(argv), ptr(envp), 0n, 0n, 0n)));
}

/**
 * rt_sigaction(sig, SIG_DFL) as the bare system call on x86-64 (null elsewhere): a zeroed
 * struct kernel_sigaction is the default action with no flags, no mask and no restorer (one
 * is needed only to return from a handler). For --exec (launch/exec.ts), just before execve.
 */
export function defaultDispositionCall(): ((sig: number) => number) | null {
  const c = libc();
  if (!c || !loadedFrom?.numbered || !rawSyscall || !pointerOf) return null;
  const syscall = rawSyscall;
  const ptr = pointerOf;
  const act = Buffer.alloc(32); // handler, flags, restorer, mask: all 0
  return (sig) => pinned(act, () => Number(syscall(13n, BigInt(sig), ptr(act), 0n, 8n, 0n, 0n)));
}
