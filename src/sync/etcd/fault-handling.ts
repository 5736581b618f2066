/**
 * etcd3's fault handling switched off, without importing cockatiel (etcd3's own dependency, not
 * ours). etcd3 wraps every call in a per-host circuit breaker (open for 5 s after 3 failures) and a
 * global retry policy; Go's clientv3 has neither. The sync's member clients run without them (they
 * fail over and back off themselves), and so do the benchmark's baseline and load writers.
 * etcd3 only ever calls `execute` on these policies.
 */
import type { IOptions } from "etcd3";

type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

const passThrough = {
  // async: a callback that throws synchronously must become a rejection. etcd3 reports a broken
  // watch stream by running a throwing callback through the host policy and catching the promise.
  execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> =>
    await fn({ signal: signal ?? new AbortController().signal }),
} as unknown as Policy;

/** Policies that call straight through: no retries, no circuit breaker. */
export const NO_FAULT_HANDLING: NonNullable<IOptions["faultHandling"]> = { host: () => passThrough, global: passThrough };
