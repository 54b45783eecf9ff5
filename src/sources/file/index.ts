/**
 * The `file://` scheme: `DB_URL=file:///run/secrets/db_url` (absolute) or `file://./secrets/x`
 * (relative to latchkey's working directory, for local development). Reads are bounded by
 * the configured size limit before any content rule runs. NAME_FILE variables are read here
 * too (readFileSecret): they name a file as much as file:// does, and pass the same policy.
 *
 * With a reference policy, a file is matched on its real path: `allowed/link` pointing at
 * /etc/shadow is /etc/shadow to the policy. The path is resolved once, the policy checked on
 * that, and exactly that path is opened, refusing a symlink at its end and a file that is not
 * the one at the checked path (see readCheckedFile): what is read is what was checked.
 *
 * Without a policy, the file is opened on descriptors from `/` (readUnplanted), following no
 * symlink that someone other than root or latchkey could have planted: a NAME_FILE or
 * file:// path into a directory the app can write (a shared volume, its home) must not become
 * root's read of a file the app swapped for a link to /etc/shadow. Docker's and the kubelet's
 * root-owned links (`..data`) are followed as before.
 */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, LatchkeyError } from "../../errors.ts";
import { activePolicies } from "../../policy/active.ts";
import { checkCanonical, checkReference, pathProblem } from "../../policy/policy.ts";
import { Settings } from "../../config/settings.ts";
import { getRunSettings, type FetchedSecret, type Reference, type SecretSource } from "../source.ts";
import { fileError, readCheckedFile, readSecretFile, readUnplanted, type ReadFile } from "./read.ts";
import { fileCalls } from "../../platform/libc.ts";

function haveFileCalls(): boolean {
  try {
    return fileCalls() !== null;
  } catch {
    return false;
  }
}

let limit = 64 * 1024;
/** Set by the env loader from --max-size before anything is fetched. */
export function setFileSizeLimit(bytes: number): void {
  limit = bytes;
}

/** file:// takes no `?parameters`; a `?` in a file name is written %3F. */
export const FILE_PARAMS: readonly string[] = [];

export function checkFileParams(ref: Reference, where: string): void {
  const unknown = Object.keys(ref.params)[0];
  if (unknown !== undefined) {
    throw new LatchkeyError("reference", ExitCode.CONFIG,
      `${where}: unknown parameter '${unknown}' (file:// takes no parameters${FILE_PARAMS.length ? `; valid: ${FILE_PARAMS.join(", ")}` : ""}; write a '?' in a file name as %3F)`);
  }
}

export function createFileSource(): SecretSource {
  return {
    scheme: "file",
    async fetch(refs: readonly Reference[]): Promise<FetchedSecret[]> {
      return refs.map((ref) => {
        checkCanonical(ref, ref.raw);
        checkFileParams(ref, ref.raw);
        const { bytes, version } = readFileSecret(ref.locator, limit, `file reference '${ref.raw}'`, ref);
        return { ref, value: bytes, version };
      });
    },
  };
}

/**
 * Read a file named by a reference or a NAME_FILE variable, under the reference policy.
 * `ref` is the file:// reference (a NAME_FILE path is checked as `file://PATH`).
 */
export function readFileSecret(path: string, maxSize: number, what: string, ref: Reference = { raw: `file://${path}`, scheme: "file", locator: path, params: {} }): ReadFile {
  const settings = getRunSettings() ?? new Settings({ flags: {}, env: process.env });
  const policies = activePolicies(settings);
  if (policies.length === 0) return readWithoutPolicy(path, maxSize, what);
  const written = resolve(path);
  let real: string;
  try {
    real = realpathSync.native(written);
  } catch (e) {
    // Nothing to resolve: the written path must pass on its own before the error is told
    // (a refused path's existence is not the image's business).
    checkReference(policies, ref, [written], what);
    throw fileError(e, path, what);
  }
  // A deny rule written on the path as the image knows it refuses it too.
  checkReference(policies, ref, real === written ? [real] : [real, written], what, [real]);
  return readCheckedFile(real, maxSize, what);
}

/**
 * Without node:ffi (dist/latchkey.cjs on a plain Node) there are no descriptor-relative calls:
 * a root latchkey refuses (71) rather than read through links the app could plant; run as
 * anyone else it reads by path, as it can only reach what its own user can.
 */
function readWithoutPolicy(path: string, maxSize: number, what: string): ReadFile {
  if (process.geteuid?.() !== 0 && !haveFileCalls()) return readSecretFile(path, maxSize, what);
  return readUnplanted(path, maxSize, what);
}

/** NAME_FILE paths: the canonical-form rule of file:// references (see policy.ts). */
export function checkFilePath(path: string, what: string): void {
  const problem = pathProblem(path.replace(/^\.?\//, ""));
  if (problem) throw new LatchkeyError("reference", ExitCode.CONFIG, `${what}: ${problem} in the path; write the path without '.', '..' or empty segments`);
}
