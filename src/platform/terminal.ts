/**
 * Should the app get the terminal? Only if latchkey itself holds it: started in the
 * background of an interactive shell (`latchkey -- app &`), latchkey must not pull the
 * terminal away from the shell, whose next read would then stop it with SIGTTIN.
 *
 * Decided once, at the first app start: after that the app's group holds the terminal and
 * latchkey's does not, yet a restarted app (rotation) must get it back.
 */
import { readFileSync } from "node:fs";
import { isTerminal } from "./tty.ts";
import { libc } from "./libc.ts";

let decided: boolean | undefined;

export function startedInForeground(): boolean {
  decided ??= isTerminal(0) && inForegroundNow();
  return decided;
}

function inForegroundNow(): boolean {
  const c = libc();
  if (c) {
    const fg = c.tcgetpgrp(0);
    return fg === -1 || fg === c.getpgrp(); // -1: cannot tell; keep the old behaviour
  }
  // /proc/self/stat: pid (comm) state ppid pgrp session tty_nr tpgid ... (tpgid: the
  // foreground group of the controlling terminal, normally the one on stdin)
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgrp = Number(f[2]);
    const tpgid = Number(f[5]);
    return tpgid <= 0 || tpgid === pgrp;
  } catch {
    return true;
  }
}
