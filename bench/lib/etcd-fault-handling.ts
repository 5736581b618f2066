/**
 * etcd3's fault handling switched off, without importing cockatiel (etcd3's own dependency, not
 * ours). etcd3 wraps every call in a per-host circuit breaker (open for 5 s after 3 failures) and a
 * global retry policy; Go's clientv3 has neither, so the baseline and the load writers run without
 * them. etcd3 only ever calls `execute` on these policies.
 */
import type { IOptions } from "etcd3";

type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> =>
    Promise.resolve(fn({ signal: signal ?? new AbortController().signal })),
} as unknown as Policy;

export const NO_FAULT_HANDLING: NonNullable<IOptions["faultHandling"]> = { host: () => passThrough, global: passThrough };
