/**
 * Key/values as the puts of one range read (every key created at revision 2, once), for benchmarks
 * that write a generated cluster straight into a store's writer.
 */
import type { KeyValue } from "../../src/demo/cluster-spec.js";
import type { KvChange } from "../../src/kafscale/records.js";

export type Put = KvChange & { type: "put" };

export function rangePuts(kvs: readonly KeyValue[]): Put[] {
  return kvs.map((kv) => ({
    type: "put",
    key: kv.key,
    value: kv.value,
    modRevision: 2,
    createRevision: 2,
    version: 1,
    lease: "0",
  }));
}
