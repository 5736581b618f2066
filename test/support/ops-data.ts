/**
 * Writer batches for the ops tests: every revision rewrites the same committed offsets to the
 * revision's number, in one transaction, so any state of the database says which revision it is
 * and whether it is whole: all offsets equal `sync_state.revision`, or the file is not one state.
 */
import type { Namespace } from "etcd3";
import { encodeCommittedOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import type { AuditRow, Store } from "../../src/store/index.js";

/** Applies revision `revision`: `count` committed offsets of group "ops" set to `revision`. */
export function writeRevision(store: Store, revision: number, count: number, metadata = ""): void {
  const changes: KvChange[] = Array.from({ length: count }, (_, partition) => ({
    type: "put",
    key: keys.committedOffset("ops", "orders", partition),
    value: encodeCommittedOffset({ offset: revision, metadata, committedAt: "2026-11-24T09:00:00Z" }),
    modRevision: revision,
    createRevision: 2,
    version: revision,
    lease: "0",
  }));
  if (store.syncState.get().initialSyncDone) {
    store.writer.applyChanges(changes, revision);
    return;
  }
  // The first revision is a full load, as the etcd sync's initial range read would be.
  const load = store.writer.beginResync();
  load.addPage(changes);
  load.commit(revision);
}

/** SQL that returns "<revision>|<whole>" for a copy: whole is 1 when every offset matches the revision. */
export const REVISION_CHECK_SQL =
  "SELECT s.revision, (SELECT count(*) FROM committed_offsets WHERE committed_offset != s.revision) = 0 " +
  "AND (SELECT count(*) FROM committed_offsets) > 0 FROM sync_state s";

/** An audit row whose arguments carry `marker`, to find its bytes in a file later. */
export function auditRow(marker: string, at = new Date().toISOString()): AuditRow {
  return {
    at,
    requestId: null,
    subject: "alice",
    clientId: null,
    authMode: "static",
    tool: "fetch_offsets",
    arguments: JSON.stringify({ group_id: marker }),
    outcome: "ok",
    reason: null,
    status: null,
    latencyMs: 1,
    revision: 1,
    remoteAddr: "10.0.0.1",
    sessionId: null,
  };
}

/**
 * A consumer fleet committing offsets to etcd as fast as it can (20 partitions per round, each with a
 * fat metadata string so the WAL grows quickly), until `stop()`.
 */
export function startOffsetStream(keyspace: Namespace): { puts(): number; stop(): Promise<void> } {
  let writing = true;
  let puts = 0;
  const metadata = "m".repeat(3000);
  const stream = (async () => {
    for (let round = 0; writing; round++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, partition) =>
          keyspace
            .put(keys.committedOffset("fleet", "orders", partition))
            .value(encodeCommittedOffset({ offset: round, metadata, committedAt: "2026-11-24T09:00:00Z" }))
            .exec(),
        ),
      );
      puts += 20;
    }
  })();
  return {
    puts: () => puts,
    stop: async () => {
      writing = false;
      await stream;
    },
  };
}
