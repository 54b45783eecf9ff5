import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Integration tests start real processes, PID namespaces and servers; two cores here.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["test/helpers/global-setup.ts"],
    // `*.last.test.ts` (the redaction sweep) runs after everything else has printed its output.
    projects: [
      { extends: true, test: { name: "main", include: ["test/**/*.test.ts"], exclude: ["test/**/*.last.test.ts"], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: "last", include: ["test/**/*.last.test.ts"], sequence: { groupOrder: 1 } } },
    ],
  },
});
