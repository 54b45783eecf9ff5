/** Small statistics over samples; percentiles by nearest rank (no interpolation surprises). */
export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

/** A markdown table; every cell already formatted. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function verdict(met: boolean, what: string): string {
  return met ? `**target met**: ${what}` : `**target MISSED**: ${what}`;
}

/**
 * Slope of the least-squares line through the points (x, y): how fast a soak's memory moves
 * per unit of x, robust to one sample caught just before a collection.
 */
export function slope(s: readonly { x: number; y: number }[]): number {
  if (s.length < 2) return NaN;
  const mx = mean(s.map((p) => p.x));
  const my = mean(s.map((p) => p.y));
  const num = s.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = s.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return num / den;
}

/**
 * What the soaks' targets call flat (issue 15's and the Vault soak's): from minute
 * FLAT_FROM_MIN on, the least-squares line moves by at most FLAT_MB.
 */
export const FLAT_MB = 1;
export const FLAT_FROM_MIN = 10;

/**
 * A soak's curve from `fromMin` on: its first sample there, its last, how far the
 * least-squares line moves between them, and the peak. NaN (never "met") when no sample
 * reaches `fromMin`: a run too short to say whether it is flat. A sample taken up to 0.01
 * minute early (the sampling timer's jitter) counts as on time.
 */
export function trendFrom<T extends { min: number }>(xs: readonly T[], y: (s: T) => number, fromMin = FLAT_FROM_MIN): { from: T; last: T; rise: number; peak: number } {
  const late = xs.filter((x) => x.min >= fromMin - 0.01);
  const from = late[0] ?? xs[0]!;
  const last = xs[xs.length - 1]!;
  const rise = slope(late.map((x) => ({ x: x.min, y: y(x) }))) * (last.min - from.min);
  return { from, last, rise, peak: late.length ? Math.max(...late.map(y)) : NaN };
}
