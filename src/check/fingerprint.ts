/**
 * The fingerprints `latchkey check` prints beside each secret, so "same password?" can be
 * answered without showing it.
 *
 * They are HMAC-SHA256 under a key, never a bare hash. A bare SHA-256 of a secret is a search
 * target: anyone holding the output tries candidate values offline, and every four-character
 * value falls in seconds (issue #12). A slow KDF with a fixed salt only slows that down: scrypt
 * at N=2^14 took ~73 ms a value here, so a 1,000-secret check would take over a minute, and a
 * four-character search still finishes in hours on one core (far sooner on a GPU). A key the
 * reader does not hold leaves nothing to search.
 *
 * - By default the key is 32 random bytes made for this run and then forgotten: fingerprints
 *   compare within one output only (two variables holding the same value show the same one);
 *   two runs show different fingerprints for the same value.
 * - `--fingerprint-key-file FILE`: the file's bytes are the key (at least 16, exactly as stored,
 *   a final newline included). Every run and host given the same file shows the same
 *   fingerprint for the same value, and whoever holds the key can compute one by hand:
 *   `printf %s "$VALUE" | openssl dgst -sha256 -hmac "$(cat FILE)"` (first 16 hex digits) for
 *   a text key. Without the file, nothing can be searched.
 */
import { FileReadError, readRegularFile } from "../sources/file/read.ts";
import { crypto } from "../platform/lazy.ts";
import { ExitCode, LatchkeyError } from "../errors.ts";

/** Hex digits shown: 64 bits, so two different values of one output practically never collide. */
export const FINGERPRINT_HEX = 16;
export const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 4096;

export type KeyKind = "per-run" | "file";

export interface Fingerprinter {
  kind: KeyKind;
  of(value: string | Buffer): string;
}

export function fingerprinter(key?: Buffer): Fingerprinter {
  const k = key ?? crypto().randomBytes(32);
  return {
    kind: key ? "file" : "per-run",
    of: (value) => crypto().createHmac("sha256", k).update(value).digest("hex").slice(0, FINGERPRINT_HEX),
  };
}

/**
 * The key file, read by the one reader (sources/file/read.ts): opened non-blocking (a FIFO must
 * not hang `check`), then it must be a regular file of a sensible size; a read that fails (a
 * procfs file) is one line naming the file, not an internal error. `label` names the setting
 * (the flag, its env var or the config key).
 */
export function readFingerprintKey(path: string, label: string): Buffer {
  const where = `${label} ${path}`;
  let key: Buffer;
  try {
    key = readRegularFile(path, MAX_KEY_BYTES).bytes;
  } catch (e) {
    if (e instanceof FileReadError) {
      if (e.code === "EFBIG") {
        throw new LatchkeyError("fingerprint_key", ExitCode.CONFIG, `${where}: the key is ${e.size !== undefined ? `${e.size} bytes` : `over ${MAX_KEY_BYTES} bytes`}; use at most ${MAX_KEY_BYTES}`);
      }
      throw new LatchkeyError("fingerprint_key", ExitCode.CONFIG, `${where}: not a regular file`);
    }
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    const syscall = (e as NodeJS.ErrnoException).syscall;
    const exit = code === "ENOENT" || code === "ENOTDIR" ? ExitCode.NO_INPUT : code === "EACCES" || code === "EPERM" ? ExitCode.NO_PERM : ExitCode.OS;
    // read(2) failing on a file that passed fstat (procfs: /proc/self/mem) is the file's fault, not an internal error
    throw new LatchkeyError("fingerprint_key", exit, `${where}: cannot ${syscall === "read" ? "read" : "open"} it (${code})`);
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new LatchkeyError("fingerprint_key", ExitCode.CONFIG,
      `${where}: the key is ${key.length} bytes; use at least ${MIN_KEY_BYTES} random ones (head -c 32 /dev/urandom > FILE)`);
  }
  return key;
}
