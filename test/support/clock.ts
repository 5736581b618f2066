/**
 * A clock for the service under test that tests move forward instead of sleeping. It starts at the
 * real time and runs with it (etcd sync and the poller stamp their own times with Date.now, which
 * must stay comparable), plus whatever the test has advanced it by.
 */
export interface TestClock {
  now(): number;
  /** Moves the clock `ms` forward, for good. */
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}
