import { SHIM_ARG } from "./launch/shim-arg.ts";

const argv = process.argv.slice(2);
const full = () => void import("./main.ts").then((m) => m.run(argv));
// Paths that must start fast load only what they need (dynamic imports stay unevaluated):
// `latchkey health` runs every few seconds in every container (bench/health.ts), and the
// exec shim runs at every start and restart of an app with --user or a terminal.
if (argv[0] === "health") void import("./health/entry.ts").then((m) => m.runHealthFast(argv, full));
else if (argv[0] === SHIM_ARG) void import("./launch/shim-entry.ts").then((m) => m.shimEntry());
else full();
