/**
 * How long a test waits for a condition. The 1 s default of vi.waitFor and expect.poll is a speed check in disguise:
 * with every core busy (npm run test:stress) a copy, a sync or a child process can take longer, so
 * every wait names this deadline (lint refuses a vi.waitFor without one). It only bounds a hung test;
 * a passing test returns as soon as the condition holds.
 */
export const UNTIL = { timeout: 60_000, interval: 20 } as const;
