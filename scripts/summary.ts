// Prints the closing line "N passed, N failed[, N skipped]" from vitest's own JSON report.
import { readFileSync } from "node:fs";

const path = process.argv[2]!;
let r: { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number; numTotalTestSuites: number; numFailedTestSuites: number };
try {
  r = JSON.parse(readFileSync(path, "utf8"));
} catch {
  console.log("0 passed, 1 failed");
  console.error(`summary: no test report at ${path}`);
  process.exit(1);
}
const skipped = r.numPendingTests + r.numTodoTests;
// A suite that failed to load has no tests in the counts; count it as a failure so it shows.
const failed = r.numFailedTests + (r.numFailedTestSuites > 0 && r.numFailedTests === 0 ? r.numFailedTestSuites : 0);
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
