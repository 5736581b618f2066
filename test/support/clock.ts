/**
 * A clock for the service under test that tests move forward instead of sleeping. By default it
 * runs with the real time plus whatever the test advanced it by (etcd sync and the poller stamp their
 * own times with Date.now, and freshness compares the two). Frozen, it stands still between
 * advances: for rate limits, whose buckets would otherwise refill while a slow machine runs the test.
 */
export interface TestClock {
  now(): number;
  /** Moves the clock `ms` forward, for good. */
  advance(ms: number): void;
}

export function testClock(options: { frozen?: boolean } = {}): TestClock {
  const start = Date.now();
  let offset = 0;
  return {
    now: () => (options.frozen ? start : Date.now()) + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}
