/**
 * The freshness workload's write stream as the watch delivers it, for the benchmarks that apply it to a
 * store directly (write-cost.ts, write-pages.ts): committed offsets and end offsets alternating over
 * the workload's keys, as bench/lib/writer-process.ts puts them into etcd.
 */
import { encodeCommittedOffset, encodeNextOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import type { WorkloadHandles } from "./generator.js";

/**
 * Changes number `first` … `first + count − 1` of the stream: change i has revision
 * `afterRevision + 1 + (i − first)` and value `afterValue + 1 + (i − first)`, committed at `nowMs`.
 */
export function freshnessChanges(
  handles: Pick<WorkloadHandles, "committedTargets" | "nextOffsetTargets">,
  first: number,
  count: number,
  afterRevision: number,
  afterValue: number,
  nowMs: number,
): KvChange[] {
  const { committedTargets, nextOffsetTargets } = handles;
  const committedAt = new Date(nowMs).toISOString();
  return Array.from({ length: count }, (_, i): KvChange => {
    const n = first + i;
    const value = afterValue + 1 + i;
    const common = { type: "put" as const, modRevision: afterRevision + 1 + i, createRevision: 2, version: 3, lease: "0" };
    if (n % 2 === 0) {
      const t = committedTargets[(n / 2) % committedTargets.length]!;
      const encoded = encodeCommittedOffset({ offset: value, metadata: "", committedAt });
      return { ...common, key: keys.committedOffset(t.group, t.topic, t.partition), value: encoded };
    }
    const t = nextOffsetTargets[((n - 1) / 2) % nextOffsetTargets.length]!;
    return { ...common, key: keys.nextOffset(t.topic, t.partition), value: encodeNextOffset(value + 5_000_000) };
  });
}
