/**
 * What rotation has seen and done, for `check`, the health probe and the status endpoint.
 * Names and counts only, never values or fingerprints.
 */
export interface RotationStatus {
  enabled: boolean;
  action: string;
  /** ms since epoch of the last completed look (load + compare), successful or not. */
  lastCheckAt: number | null;
  lastChangeAt: number | null;
  /** Variables that changed under the `none` action and still differ from what the app runs with. */
  unapplied: string[];
  lastError: string | null;
  consecutiveFailures: number;
  restarts: number;
  signals: number;
  rejected: number;
}

export const rotationStatus: RotationStatus = {
  enabled: false,
  action: "restart",
  lastCheckAt: null,
  lastChangeAt: null,
  unapplied: [],
  lastError: null,
  consecutiveFailures: 0,
  restarts: 0,
  signals: 0,
  rejected: 0,
};

/**
 * A copy for the status endpoint (src/status/state.ts can add `rotation: rotationSnapshot()`
 * to its snapshot): times as ISO strings, names only.
 */
export function rotationSnapshot(): Omit<RotationStatus, "lastCheckAt" | "lastChangeAt"> & { lastCheckAt: string | null; lastChangeAt: string | null } {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return { ...rotationStatus, unapplied: [...rotationStatus.unapplied], lastCheckAt: iso(rotationStatus.lastCheckAt), lastChangeAt: iso(rotationStatus.lastChangeAt) };
}
