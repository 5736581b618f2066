/**
 * Per-principal token buckets for tool calls and session initializations (the MCP spec asks servers
 * to rate-limit tool invocations; an unlimited `initialize` would let one caller churn the session
 * table). A bucket holds up to `burst` calls and refills at `perMinute / 60` per second, so a client
 * may burst briefly but not exceed the configured rate over time.
 */
import type { Principal } from "../tools/call-context.js";

export interface RateLimitOptions {
  /** Sustained rate; 0 disables limiting. */
  perMinute: number;
  burst: number;
  now?: () => number;
  /** Buckets kept before idle (full) ones are dropped; bounds memory under many subjects. */
  maxBuckets?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes `cost` calls from `key`'s bucket, or says how long to wait. */
  take(key: string, cost?: number): RateDecision;
  /** A human-readable statement of the limit, for error messages. */
  readonly description: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Creates the limiter, or null when limiting is disabled. */
export function createRateLimiter(options: RateLimitOptions): RateLimiter | null {
  if (options.perMinute <= 0) return null;
  const now = options.now ?? Date.now;
  const perMs = options.perMinute / 60_000;
  const burst = options.burst;
  const maxBuckets = options.maxBuckets ?? 10_000;
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, at: number): void => {
    bucket.tokens = Math.min(burst, bucket.tokens + (at - bucket.at) * perMs);
    bucket.at = at;
  };
  const dropIdle = (at: number): void => {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
  };

  return {
    description: `${options.perMinute} calls per minute per principal (tool calls and initialize)`,
    take: (key, cost = 1) => {
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxBuckets) dropIdle(at);
        bucket = { tokens: burst, at };
        buckets.set(key, bucket);
      }
      refill(bucket, at);
      // A batch larger than the burst could never pass; it costs a full bucket instead.
      const need = Math.min(cost, burst);
      if (bucket.tokens >= need) {
        bucket.tokens -= need;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((need - bucket.tokens) / perMs / 1000)) };
    },
  };
}

/**
 * Whose bucket (and session quota) a request uses: the principal's subject; with auth mode `none`,
 * where every caller is "anonymous", the client's address, so one client cannot use up everyone's.
 */
export function limitKeyOf(principal: Principal, remoteAddr: string | null): string {
  return principal.authMode === "none" ? `address:${remoteAddr ?? "unknown"}` : principal.subject;
}
