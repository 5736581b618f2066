/**
 * Scripted producer/consumer timelines for the lag tests: end offsets and commits as Kafscale writes
 * them (next_offset text, committed-offset JSON with committed_at), at moments of a test clock.
 * The same script drives the store directly (fast, store tests) or a real etcd (integration).
 */
import type { Namespace } from "etcd3";
import { encodeCommittedOffset, encodeNextOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import type { Store } from "../../src/store/index.js";

/** One key write of a timeline. */
export type LagWrite =
  | { kind: "end"; topic: string; partition: number; value: number }
  | { kind: "commit"; group: string; topic: string; partition: number; offset: number; committedAt: number | null }
  | { kind: "delete"; key: string };

export const endWrite = (topic: string, partition: number, value: number): LagWrite => ({ kind: "end", topic, partition, value });

export const commitWrite = (
  group: string,
  topic: string,
  partition: number,
  offset: number,
  committedAt: number | null,
): LagWrite => ({ kind: "commit", group, topic, partition, offset, committedAt });

/** The etcd key and value of a write (null value: a delete). */
export function kvOf(write: LagWrite): { key: string; value: Buffer | null } {
  switch (write.kind) {
    case "end":
      return { key: keys.nextOffset(write.topic, write.partition), value: encodeNextOffset(write.value) };
    case "commit":
      return {
        key: keys.committedOffset(write.group, write.topic, write.partition),
        value: encodeCommittedOffset({
          offset: write.offset,
          metadata: "",
          committedAt: write.committedAt === null ? "" : new Date(write.committedAt).toISOString(),
        }),
      };
    case "delete":
      return { key: write.key, value: null };
  }
}

/** Applies writes straight to a store's write path as one batch at `revision`, stamped `now`. */
export function applyToStore(store: Store, writes: readonly LagWrite[], revision: number, now: number): void {
  const changes = writes.map((w): KvChange => {
    const { key, value } = kvOf(w);
    return {
      type: value === null ? "delete" : "put",
      key,
      value: value ?? Buffer.alloc(0),
      modRevision: revision,
      createRevision: revision,
      version: 1,
      lease: "0",
    };
  });
  store.writer.applyChanges(changes, revision, now);
}

/** Writes to etcd (one transaction) and returns the revision it made. */
export async function writeToEtcd(keyspace: Namespace, writes: readonly LagWrite[]): Promise<number> {
  // A transaction whose condition always holds: every write lands at one revision.
  const txn = keyspace.if(keys.snapshot(), "Version", ">", -1).then(
    ...writes.map((w) => {
      const { key, value } = kvOf(w);
      return value === null ? keyspace.delete().key(key) : keyspace.put(key).value(value);
    }),
  );
  const res = await txn.commit();
  return Number(res.header.revision);
}

/** A producer writing `rate` offsets/s from `base`, and the end offset it has reached at `t` seconds. */
export const producer = (rate: number, base = 0) => (t: number): number => base + Math.floor(rate * t);
