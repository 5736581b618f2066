/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across processes: the
 * freshness phase compares the writer process's put timestamps with the prober's arrival times, so
 * both must read this one clock.
 */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();
