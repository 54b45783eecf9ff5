/**
 * Can the kernel actually run this file? Checked before anything starts, because the two
 * ways of starting the app disagree when it cannot: process.execve (exec mode, the exec shim)
 * fails with ENOEXEC or ENOENT, while a plain spawn goes through libuv's execvp, which runs
 * a file of unknown format with /bin/sh (the app "starts" and dies with sh's 127), and whose
 * ENOENT for a missing interpreter only arrives after spawn returned. Checking here gives one
 * answer and one message in every mode:
 *   - `#!` line whose interpreter is missing → 127 (what Docker reports), not runnable → 126,
 *     CRLF line endings (the kernel would look for "sh\r") → 127 with a message that says so;
 *   - ELF binary whose program interpreter (ld.so) is missing → 127; the classic case is a
 *     musl binary in a glibc image, which otherwise fails with a baffling "no such file";
 *   - anything else → 126 (exec format error), unless an enabled binfmt_misc handler matches
 *     the file (its magic bytes or its extension): then the kernel knows the format and decides.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { ExitCode, LatchkeyError } from "../errors.ts";

const HEAD_BYTES = 4096;

export interface FormatRunner {
  canExecute(path: string): boolean;
}

export function checkFormat(path: string, runner: FormatRunner): void {
  const head = readHead(path);
  if (head === null) return; // unreadable to latchkey: let execve have the last word
  if (head[0] === 0x23 && head[1] === 0x21) return checkShebang(path, head, runner);
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return checkElf(path, head);
  if (binfmtMiscHandles(path, head)) return;
  throw new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE,
    `${path}: cannot execute: exec format error (not an ELF binary and no #! line)`);
}

function checkShebang(path: string, head: Buffer, runner: FormatRunner): void {
  const nl = head.indexOf(0x0a);
  const raw = head.subarray(2, nl === -1 ? head.length : nl).toString("latin1");
  if (raw.endsWith("\r")) {
    // The kernel does not strip \r: it looks for "/bin/sh\r" (or env looks for "bash\r") and
    // reports "no such file" about a file that plainly exists. A checkout with Windows line
    // endings is the usual cause of this docker-entrypoint.sh failure.
    throw new LatchkeyError("not_found", ExitCode.NOT_FOUND,
      `${path}: cannot execute: its #! line ends with a carriage return (CRLF line endings; convert the file to LF, e.g. dos2unix)`);
  }
  // as the kernel parses it: blanks around, the interpreter up to the first blank
  const line = raw.replace(/^[ \t]+|[ \t]+$/g, "");
  const interpreter = line.split(/[ \t]/)[0] ?? "";
  if (interpreter === "") {
    throw new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE, `${path}: cannot execute: empty #! line`);
  }
  let st;
  try {
    st = statSync(interpreter);
  } catch {
    throw new LatchkeyError("not_found", ExitCode.NOT_FOUND, `${path}: cannot execute: its interpreter ${interpreter} (#! line) is not found`);
  }
  if (!st.isFile() || !runner.canExecute(interpreter)) {
    throw new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE,
      `${path}: cannot execute: its interpreter ${interpreter} (#! line) is not executable`);
  }
}

const PT_INTERP = 3;

function checkElf(path: string, head: Buffer): void {
  const interp = elfInterpreter(path, head);
  if (interp === undefined) {
    throw new LatchkeyError("not_executable", ExitCode.NOT_EXECUTABLE, `${path}: cannot execute: exec format error (truncated or invalid ELF header)`);
  }
  if (interp === null) return; // static binary
  if (!existsSync(interp)) {
    throw new LatchkeyError("not_found", ExitCode.NOT_FOUND,
      `${path}: cannot execute: its program interpreter ${interp} is not found (built for another libc or architecture?)`);
  }
}

/**
 * PT_INTERP of an ELF file (32/64-bit, little/big endian); null for a static binary;
 * undefined when the header or program header table is not something the kernel would load.
 */
export function elfInterpreter(path: string, head: Buffer): string | null | undefined {
  if (head.length < 52 || ![1, 2].includes(head[4]!) || ![1, 2].includes(head[5]!)) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  if (is64 && head.length < 64) return undefined;
  const phoff = is64 ? u64(head, 32) : u32(head, 28);
  const phentsize = u16(head, is64 ? 54 : 42);
  const phnum = u16(head, is64 ? 56 : 44);
  if (phnum === 0 || phentsize < (is64 ? 56 : 32)) return undefined;
  const table = readAt(path, phoff, phentsize * phnum, head);
  if (!table) return undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (ph.length < phentsize || u32(ph, 0) !== PT_INTERP) continue;
    const offset = is64 ? u64(ph, 8) : u32(ph, 4);
    const size = is64 ? u64(ph, 32) : u32(ph, 16);
    if (size <= 1 || size > 4096) return undefined;
    const s = readAt(path, offset, size, head);
    if (!s) return undefined;
    const nul = s.indexOf(0);
    return s.toString("latin1", 0, nul === -1 ? s.length : nul);
  }
  return null;
}

function readHead(path: string): Buffer | null {
  return readFrom(path, 0, HEAD_BYTES, true);
}

/** `length` bytes at `offset`: from the head already read when they are in it (the usual case: a linker puts the program headers and the interpreter's name there). */
function readAt(path: string, offset: number, length: number, head: Buffer): Buffer | null {
  if (offset + length <= head.length) return head.subarray(offset, offset + length);
  return readFrom(path, offset, length);
}

function readFrom(path: string, offset: number, length: number, short = false): Buffer | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    if (n < length && !short) return null;
    return buf.subarray(0, n);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Does an enabled binfmt_misc entry match the file, as the kernel would match it (magic bytes
 * under a mask at an offset, or the name's extension)? A registered qemu-user handler for
 * foreign ELF binaries must not make a plain text file "maybe runnable".
 */
function binfmtMiscHandles(path: string, head: Buffer): boolean {
  const dir = "/proc/sys/fs/binfmt_misc";
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => e !== "register" && e !== "status");
  } catch {
    return false;
  }
  for (const e of entries) {
    let text: string;
    try {
      text = readFileSync(`${dir}/${e}`, "latin1");
    } catch {
      return true; // cannot tell: let the kernel decide
    }
    if (!text.startsWith("enabled")) continue;
    const field = (k: string) => new RegExp(`^${k} (.*)$`, "m").exec(text)?.[1]?.trim();
    const ext = field("extension");
    if (ext !== undefined) {
      if (path.endsWith(`.${ext.replace(/^\./, "")}`)) return true;
      continue;
    }
    const magic = Buffer.from(field("magic") ?? "", "hex");
    const maskHex = field("mask");
    const mask = maskHex ? Buffer.from(maskHex, "hex") : Buffer.alloc(magic.length, 0xff);
    const offset = Number(field("offset") ?? 0);
    if (magic.length === 0 || head.length < offset + magic.length) continue;
    let match = true;
    for (let i = 0; i < magic.length && match; i++) match = (head[offset + i]! & (mask[i] ?? 0xff)) === (magic[i]! & (mask[i] ?? 0xff));
    if (match) return true;
  }
  return false;
}
