/**
 * Split a --pre-start command into words without a shell (distroless images have none):
 * single quotes keep everything literal, double quotes allow \" and \\, a backslash outside
 * quotes escapes the next character. Nothing is expanded: want $VARS or pipes? `sh -c '...'`.
 */
export function splitWords(raw: string): string[] | { error: string } {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end === -1) return { error: "unterminated single quote" };
      cur += raw.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= raw.length) return { error: "unterminated double quote" };
        const d = raw[i]!;
        if (d === '"') break;
        if (d === "\\" && (raw[i + 1] === '"' || raw[i + 1] === "\\")) {
          cur += raw[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      inWord = true;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= raw.length) return { error: "trailing backslash" };
      cur += raw[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
