import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/etcd-global-setup.ts", "test/support/chart-global-setup.ts"],
    // Guards against a hung test, not speed checks (those live in bench/): generous enough that the
    // suite passes with every core busy (npm run test:stress), where child processes start slowly.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
  },
});
