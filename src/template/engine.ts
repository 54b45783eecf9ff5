/**
 * The template language: Liquid, interpreted by liquidjs (pinned in package.json). Chosen
 * because it cannot run code: liquidjs parses a template into tags and filters it implements
 * itself, with no `eval`, no `new Function` and no way to reach a JavaScript object's methods
 * or prototype (ownPropertyOnly). Handlebars and EJS compile templates to JavaScript; Go's
 * text/template (consul-template, Vault Agent) is not available to a Node program.
 *
 * What is switched off or bounded here, because a template sits beside secrets and latchkey
 * runs as root:
 * - reading other files: `include`, `render` and `layout` are replaced by tags that fail at
 *   parse time, and the engine's file system is an empty in-memory map (`templates: {}`), so
 *   no tag or option can reach the disk;
 * - a misspelt variable or filter is an error, never an empty string in a config file
 *   (strictVariables, strictFilters): the app must not start with `password: ` in its YAML;
 * - a loop over a huge range, or a string doubled in a loop, stops at renderLimit/memoryLimit
 *   instead of holding PID 1's event loop or memory.
 *
 * The package is a side bundle of the single executable (src/sea-assets.ts): a start without
 * templates never loads or compiles it.
 */
import { ExitCode, LatchkeyError } from "../errors.ts";

type LiquidModule = typeof import("liquidjs");
type Liquid = InstanceType<LiquidModule["Liquid"]>;
type ParsedTemplate = ReturnType<Liquid["parse"]>;

const liquidjs = (): LiquidModule => require("liquidjs") as LiquidModule;

/** Wall time one render may take (ms); config files render in well under 1 ms. */
export const RENDER_LIMIT_MS = 1000;
/** liquidjs's allocation budget (about characters of strings and array items made while rendering). */
export const MEMORY_LIMIT = 16 * 1024 * 1024;
/** Template source size, bytes. */
export const PARSE_LIMIT = 1024 * 1024;

/** Tags that would read another file; each fails at parse time with this reason. */
const FILE_TAGS = ["include", "render", "layout"] as const;

let engine: Liquid | undefined;

function liquid(): Liquid {
  if (engine) return engine;
  const { Liquid, Tag } = liquidjs();
  const e = new Liquid({
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    // An in-memory file system with nothing in it: any lookup of a file by name fails.
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    cache: false,
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
    // Keep the output exactly as written: a config file's whitespace is the author's.
    greedy: false,
  });
  for (const name of FILE_TAGS) {
    e.registerTag(name, class extends Tag {
      constructor(...args: ConstructorParameters<typeof Tag>) {
        super(...args);
        throw new Error(`the ${name} tag is not allowed: a template cannot read other files`);
      }
      *render(): Generator<unknown, void, unknown> {}
    });
  }
  return (engine = e);
}

export interface CompiledTemplate {
  /** Names as written in messages (the source path). */
  readonly label: string;
  /** Top-level variables the template reads (their changes take this template's action). */
  readonly reads: ReadonlySet<string>;
  /** The rendered bytes; throws a LatchkeyError (CONFIG) naming the template, line and variable, never a value. */
  render(scope: Readonly<Record<string, string>>): Buffer;
}

/** Parse a template; a syntax error, a forbidden tag or an unknown filter is a LatchkeyError (CONFIG). */
export function compileTemplate(text: string, label: string): CompiledTemplate {
  const e = liquid();
  let parsed: ParsedTemplate;
  let reads: Set<string>;
  try {
    parsed = e.parse(text);
    reads = new Set(e.globalVariablesSync(parsed));
  } catch (err) {
    throw templateError(label, err);
  }
  return {
    label,
    reads,
    render(scope) {
      try {
        // A null-prototype copy: a variable named `constructor` or `__proto__` is only ever a variable.
        const data = Object.assign(Object.create(null) as Record<string, string>, scope);
        return Buffer.from(e.renderSync(parsed, data) as string, "utf8");
      } catch (err) {
        throw templateError(label, err, text);
      }
    },
  };
}

/**
 * One line: `template SRC line L: undefined variable DB_PASSWORD`. liquidjs's own messages
 * name variables, filters and tags, not values; the position comes from the token. Anything
 * else (an error thrown inside a filter) is reduced to its first line, and the logger redacts
 * every loaded secret by value on top of that.
 */
export function templateError(label: string, err: unknown, source?: string): LatchkeyError {
  const e = err as { message?: unknown; token?: { getPosition?: () => [number, number] }; originalError?: unknown };
  let message = typeof e?.message === "string" ? e.message : String(err);
  // liquidjs appends ", line:L, col:C" and, for render errors, the template lines around it:
  // the position is given once, up front, and the template text is not repeated.
  message = message.split("\n")[0]!;
  const at = /, line:(\d+), col:(\d+)$/.exec(message);
  let line = at ? Number(at[1]) : undefined;
  if (at) message = message.slice(0, at.index);
  if (line === undefined) {
    try {
      line = e?.token?.getPosition?.()[0];
    } catch {
      // no position
    }
  }
  message = message.replace(/^undefined variable: /, "undefined variable ").replace(/^undefined filter: /, "undefined filter ");
  if (source !== undefined && message.startsWith("undefined variable ")) message = `undefined variable ${writtenPath(message.slice(19), source)}`;
  if (/^ENOENT: Failed to lookup/.test(message)) message = "a template cannot read other files";
  return new LatchkeyError("template", ExitCode.CONFIG, `template ${label}${line !== undefined ? ` line ${line}` : ""}: ${message}`);
}

/**
 * The looked-up path of an undefined variable, as far as the template wrote it. liquidjs names
 * the path it evaluated: a key computed from a value (`x[DB_PASSWORD | upcase]`, `[name]`) is
 * that value, transformed past the redactor's reach. A segment is shown only if the template's
 * own text holds it as a word; from the first that it does not, the rest is `[…]`.
 */
function writtenPath(path: string, source: string): string {
  const segments = path.split(".");
  const written = (seg: string) => seg !== "" && new RegExp(`(^|[^\\w-])${seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w-])`).test(source);
  let n = 0;
  while (n < segments.length && written(segments[n]!)) n++;
  if (n === segments.length) return path;
  if (n === 0) return "(a name computed from a value; not shown)";
  return `${segments.slice(0, n).join(".")}[…] (a key computed from a value; not shown)`;
}
