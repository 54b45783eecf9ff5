/**
 * Starting the app with posix_spawn(3) through node:ffi, not child_process.spawn.
 *
 * libuv forks: the kernel copies the page tables of latchkey's whole address space (the
 * ~115 MB executable mapping and the heap), and the child then tears that copy down again in
 * execve. glibc's posix_spawn uses clone(CLONE_VM | CLONE_VFORK), which copies nothing.
 * Measured here: ~0.3 ms from call to running child instead of ~2.3 ms, and loading
 * child_process (which pulls in node:net and the stream machinery) is left out of every start.
 *
 * The child gets what libuv gives a `detached` child with inherited stdio: its own session
 * (setsid, so its own process group), every signal at its default disposition (Node ignores
 * SIGPIPE; ignored signals survive execve), an empty signal mask (Node leaves SIGUSR1 blocked,
 * platform/sigmask.ts), and fds 0-2 (everything else latchkey opens is close-on-exec).
 *
 * Node marks fds 0-2 close-on-exec too (libuv's children get them by an explicit dup2). The
 * flag is cleared on latchkey's own fds 0-2 once, before the first spawn, rather than with
 * posix_spawn_file_actions_adddup2(fd, fd): that clears it only from glibc 2.29, and the
 * runtime supports 2.28.
 *
 * The pid is not libuv's, so libuv never waits for it: supervisor/reaper.ts does, by
 * waitpid(pid) on SIGCHLD.
 */
import { execveCall, libc, rawPointer } from "./libc.ts";
import { SIGSET_BYTES, sigset } from "./sigmask.ts";
import { SIGNALS } from "./signal-numbers.ts";
import { os } from "./lazy.ts";
import { BEFORE_EXEC } from "../sea-assets.ts";

// glibc's <spawn.h>
const POSIX_SPAWN_RESETIDS = 0x01;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
/**
 * posix_spawnattr_t as glibc's <spawn.h> declares it (x86-64): short __flags; pid_t __pgrp;
 * sigset_t __sd (default signals); sigset_t __ss (mask); struct sched_param __sp;
 * int __policy; int __pad[16]. It is part of glibc's ABI (the structure is in the public
 * header), so latchkey fills it itself: posix_spawnattr_init (a memset),
 * _setflags, _setsigmask, _setsigdefault (stores) and _destroy (nothing) would be five FFI
 * bindings, ~0.5 ms of every start (measured here). test/unit/platform/spawn-attr.test.ts
 * checks the bytes against glibc's own functions.
 */
export const SPAWNATTR = { bytes: 336, flags: 0, sigdefault: 8, sigmask: 8 + SIGSET_BYTES } as const;

/**
 * The attributes latchkey starts the app with: own session, `sigdefault` at default, empty
 * mask; with `resetIds`, POSIX_SPAWN_RESETIDS: the child sets its effective uid and gid to its
 * real ones before execve (privileges/drop.ts switchThread says why).
 */
export function spawnAttributes(sigdefault: Buffer = defaultSignals(), resetIds = false): Buffer {
  const attr = Buffer.alloc(SPAWNATTR.bytes); // posix_spawnattr_init: all zero
  const flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (resetIds ? POSIX_SPAWN_RESETIDS : 0);
  attr.writeInt16LE(flags, SPAWNATTR.flags);
  sigdefault.copy(attr, SPAWNATTR.sigdefault, 0, SIGSET_BYTES);
  // the mask (SPAWNATTR.sigmask) stays empty: the app starts with no signal blocked
  return attr;
}

export class SpawnError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(errno: number, path: string) {
    const code = errnoName(errno);
    super(`posix_spawn ${path}: ${code}`);
    this.code = code;
    this.errno = errno;
  }
}

/** Is posix_spawn usable here (FFI available)? Otherwise callers use child_process. */
export function canPosixSpawn(): boolean {
  return libc() !== null && rawPointer() !== null;
}

/**
 * Start `path` with `argv` (argv[0] as given) and `env`, in a new session. Returns the pid;
 * throws SpawnError with the errno of a failed exec (ENOENT, EACCES, ENOEXEC, ...).
 * `resetIds`: the child takes the calling thread's real uid and gid as its effective ones
 * (POSIX_SPAWN_RESETIDS), for a start as the app's user (privileges/drop.ts switchThread).
 */
export function posixSpawn(path: string, argv: readonly string[], env: Readonly<Record<string, string>>, resetIds = false): number {
  const c = libc()!;
  const ptr = rawPointer()!;
  inheritStdio(c);
  const envList = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const args = cStringArray(argv, ptr);
  const envp = cStringArray(envList, ptr);
  const pid = Buffer.alloc(4);
  check(c.posix_spawn(pid, cString(path), 0n, spawnAttributes(undefined, resetIds), args.pointers, envp.pointers), path);
  // The string buffers must outlive the call: keep them referenced until here.
  void args.strings;
  void envp.strings;
  return pid.readInt32LE(0);
}

/**
 * Become `path` in this process (execve), for --exec: the same C arrays posix_spawn gets,
 * with descriptors 0-2 inherited. Returns false when the bare system call is not available
 * (the caller uses process.execve); throws SpawnError with the errno when execve fails.
 */
export function execveDirect(path: string, argv: readonly string[], env: Readonly<Record<string, string>>): boolean {
  const exec = execveCall();
  const c = libc();
  if (!exec || !c) return false;
  inheritStdio(c);
  const args = cStringArray(argv, rawPointer()!);
  const envp = cStringArray(Object.entries(env).map(([k, v]) => `${k}=${v}`), rawPointer()!);
  const file = cString(path);
  process.emit(BEFORE_EXEC); // the last moment this process's code caches can be written (src/sea-main.ts)
  exec(file, args.pointers, envp.pointers);
  const errno = c.errno();
  void args.strings;
  void envp.strings;
  throw new SpawnError(errno, path);
}

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
let stdioInheritable = false;

function inheritStdio(c: NonNullable<ReturnType<typeof libc>>): void {
  if (stdioInheritable) return;
  for (const fd of [0, 1, 2]) {
    const flags = c.fcntl(fd, F_GETFD, 0);
    if (flags !== -1 && (flags & FD_CLOEXEC) !== 0) c.fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  stdioInheritable = true;
}

function check(rc: number, path: string): void {
  if (rc !== 0) throw new SpawnError(rc, path);
}

/**
 * Every signal but SIGKILL and SIGSTOP: 1-31, as libuv resets them in its children, and the
 * real-time ones. glibc's posix_spawn sets its own internal signals (32 and 33, which the
 * parent handles) to SIG_IGN in the child unless they are listed here, and an ignored
 * signal stays ignored across execve: the app would start with them ignored.
 */
function defaultSignals(): Buffer {
  const all = Array.from({ length: 64 }, (_, i) => i + 1);
  return sigset(all.filter((n) => n !== SIGNALS.SIGKILL && n !== SIGNALS.SIGSTOP));
}

function cString(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s) + 1);
  b.write(s);
  return b;
}

/**
 * A NULL-terminated `char *[]` over one buffer holding every string: one UTF-8 encode of them
 * all, NUL-separated, and the pointers stored through a BigUint64Array (the environment has
 * dozens of entries, and a write per string and per pointer cost ~0.15 ms, measured here).
 */
function cStringArray(items: readonly string[], ptr: (b: Buffer) => bigint): { strings: Buffer; pointers: Buffer } {
  const joined = items.length ? items.join("\0") + "\0" : "\0";
  const strings = Buffer.from(joined);
  // As many bytes as characters: all ASCII (anything else takes two or more bytes), and each
  // string's byte length is its length, without asking the encoder once per string.
  const ascii = strings.length === joined.length;
  const pointers = new BigUint64Array(items.length + 1); // the last one stays NULL
  const base = ptr(strings);
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    pointers[i] = base + BigInt(off);
    off += (ascii ? items[i]!.length : Buffer.byteLength(items[i]!)) + 1;
  }
  return { strings, pointers: Buffer.from(pointers.buffer) };
}

function errnoName(n: number): string {
  for (const [k, v] of Object.entries(os().constants.errno)) if (v === n) return k;
  return `errno ${n}`;
}
