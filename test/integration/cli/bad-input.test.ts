/**
 * Bad input: one line on stderr naming what is wrong, a documented exit code (64 for the
 * command line, 78 for configuration from the environment), and the app never starts.
 */
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latchkey } from "../../helpers/run.ts";
import { pool, tempDir } from "../../helpers/processes.ts";

const dir = tempDir();
chmodSync(dir, 0o777);
let n = 0;

interface Case {
  name: string;
  args: (app: string[]) => string[];
  env?: Record<string, string>;
  /** Run with these extra flags (default: supervise and --exec). */
  modes?: string[][];
  code: number;
  message: RegExp;
}

const cases: Case[] = [
  { name: "unknown flag", args: (app) => ["--bogus", "--", ...app], code: 64, message: /unknown option '--bogus'/ },
  { name: "unknown short flag", args: (app) => ["-Z", "--", ...app], code: 64, message: /unknown option '-Z'/ },
  { name: "missing --", args: () => ["myapp"], code: 64, message: /before '--'; write: latchkey \[options\] -- myapp/ },
  { name: "missing -- before an app's own flags", args: () => ["myapp", "--port", "80"], code: 64, message: /unknown option '--port'.*latchkey \[options\] -- COMMAND/ },
  { name: "no command after --", args: () => ["--"], code: 64, message: /no command after '--'/ },
  { name: "empty command", args: () => ["--", ""], code: 64, message: /no command after '--'/ },
  { name: "flag without its value", args: () => ["--user"], code: 64, message: /--user.*needs a value/ },
  { name: "--rewrite without a colon", args: (app) => ["--rewrite", "TERM", "--", ...app], code: 64, message: /--rewrite: invalid value 'TERM'/ },
  { name: "--rewrite bad FROM", args: (app) => ["--rewrite", "FOO:QUIT", "--", ...app], code: 64, message: /'FOO' is not a signal/ },
  { name: "--rewrite bad TO", args: (app) => ["--rewrite", "TERM:NOPE", "--", ...app], code: 64, message: /'NOPE' is not a signal/ },
  { name: "--rewrite of a signal latchkey cannot catch", args: (app) => ["--rewrite", "KILL:TERM", "--", ...app], code: 64, message: /SIGKILL cannot be rewritten/ },
  { name: "--rewrite to an out-of-range number", args: (app) => ["--rewrite", "TERM:99", "--", ...app], code: 64, message: /'99' is not a signal/ },
  { name: "bad duration", args: (app) => ["--grace", "soon", "--", ...app], code: 64, message: /--grace: invalid value 'soon'/ },
  { name: "negative duration", args: (app) => ["--stop-timeout", "-1s", "--", ...app], code: 64, message: /--stop-timeout/ },
  { name: "absurd duration", args: (app) => ["--grace", "9999999h", "--", ...app], code: 64, message: /--grace: invalid value/ },
  { name: "bad log level", args: (app) => ["--log-level", "loud", "--", ...app], code: 64, message: /--log-level: invalid value 'loud'.*debug, info, warn/ },
  { name: "bad boolean in the environment", args: (app) => ["--", ...app], env: { LATCHKEY_SIGNAL_GROUP: "maybe" }, code: 78, message: /LATCHKEY_SIGNAL_GROUP: invalid value 'maybe'/ },
  // only without --exec: a flag overrides its variable, whose value is then never read
  { name: "bad LATCHKEY_EXEC", args: (app) => ["--", ...app], env: { LATCHKEY_EXEC: "2" }, modes: [[]], code: 78, message: /LATCHKEY_EXEC: invalid value '2'/ },
  { name: "bad duration in the environment", args: (app) => ["--", ...app], env: { LATCHKEY_GRACE: "5 parsecs" }, code: 78, message: /LATCHKEY_GRACE: invalid value '5 parsecs'/ },
  { name: "bad rewrite in the environment", args: (app) => ["--", ...app], env: { LATCHKEY_REWRITE: "TERM:QUIT,HUP" }, code: 78, message: /LATCHKEY_REWRITE: invalid value 'HUP'/ },
  { name: "bad log format in the environment", args: (app) => ["--", ...app], env: { LATCHKEY_LOG_FORMAT: "xml" }, code: 78, message: /LATCHKEY_LOG_FORMAT: invalid value 'xml'/ },
];

describe("bad input", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const marker = join(dir, `ran-${n++}`);
    const app = ["sh", "-c", `touch '${marker}'`];
    for (const mode of c.modes ?? [[], ["--exec"]]) {
      const r = await latchkey([...mode, ...c.args(app)], { env: { ...process.env, ...c.env } });
      expect(r.code, r.stderr).toBe(c.code);
      const l = r.stderr.split("\n").filter(Boolean);
      expect(l, r.stderr).toHaveLength(1);
      expect(l[0]).toMatch(/^latchkey: error: /);
      expect(l[0]).toMatch(c.message);
      expect(r.stdout).toBe("");
      expect(existsSync(marker), "the app must not have started").toBe(false);
    }
  });

  it("a flag wins over its environment variable, which wins over the default", async () => {
    const [flagWins, envUsed] = await pool([
      latchkey.bind(null, ["--log-level", "error", "--user", "nosuchuser", "--", "true"], { env: { ...process.env, LATCHKEY_LOG_LEVEL: "silent" } }),
      latchkey.bind(null, ["--user", "nosuchuser", "--", "true"], { env: { ...process.env, LATCHKEY_LOG_LEVEL: "silent" } }),
    ], 2, (f) => f());
    expect(flagWins!.code).toBe(67);
    expect(flagWins!.stderr).toMatch(/unknown user/); // --log-level error shows it
    expect(envUsed!.code).toBe(67);
    expect(envUsed!.stderr).toBe(""); // LATCHKEY_LOG_LEVEL=silent hides it
  });
});
