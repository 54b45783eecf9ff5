/**
 * Values written as a number and a unit (`5s`, `500ms`, `64KiB`), parsed without a regular
 * expression: V8 compiles a regex on its first use and again, to machine code, on its
 * second, 0.03-0.06 ms each (measured here), and every start parses about ten defaults.
 */
export interface AmountSyntax {
  /** Unit → factor; the longest unit that ends the text wins (`ms` before `s`). */
  units: Readonly<Record<string, number>>;
  /** The unit of a bare number. */
  bare: string;
  /** `0.25` allowed, not only whole numbers. */
  fraction: boolean;
  /** `KiB` as well as `kib`. */
  ignoreCase: boolean;
}

/** The number times its unit's factor, or null when `raw` is not `<digits>[.<digits>] [unit]` (blanks allowed around). */
export function parseAmount(raw: string, syntax: AmountSyntax): number | null {
  const text = raw.trim(); // the same blanks as a regex's \s
  const folded = syntax.ignoreCase ? text.toLowerCase() : text;
  let unit = "";
  for (const u of Object.keys(syntax.units)) if (u.length > unit.length && folded.endsWith(u)) unit = u;
  const number = text.slice(0, text.length - unit.length).trimEnd();
  if (!isDecimal(number, syntax.fraction)) return null;
  return Number(number) * syntax.units[unit || syntax.bare]!;
}

function isDecimal(s: string, fraction: boolean): boolean {
  const dot = fraction ? s.indexOf(".") : -1;
  const whole = dot === -1 ? s : s.slice(0, dot);
  return digits(whole) && (dot === -1 || digits(s.slice(dot + 1)));
}

function digits(s: string): boolean {
  if (s === "") return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
