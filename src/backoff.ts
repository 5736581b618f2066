/**
 * Exponential backoff with full jitter (AWS architecture blog): the delay is uniform in
 * [0, min(cap, base * 2^attempt)], so a fleet of replicas doesn't reconnect to etcd in lockstep.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/** Delay before retry number `attempt` (0-based). Never below 10% of base, so retries never spin. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(options.baseMs / 10, Math.round(random() * ceiling));
}
