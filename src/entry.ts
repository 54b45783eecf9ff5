const argv = process.argv.slice(2);
const full = () => void import("./main.ts").then((m) => m.run(argv));
// `latchkey health` runs every few seconds in every container: dynamic imports keep the
// lifecycle modules unloaded on that path (measured in bench/health.ts).
if (argv[0] === "health") void import("./health/entry.ts").then((m) => m.runHealthFast(argv, full));
else full();
