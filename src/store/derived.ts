/**
 * Derived (normalised) rows for one etcd key: remove what a key contributed, insert what its new
 * value contributes. Called only inside the write transaction of src/store/writer.ts.
 */
import type { Db } from "./database.js";
import type { DecodedEntry, KafscaleKey } from "../kafscale/kinds.js";
import { unhandledKind } from "../kafscale/records.js";

export interface DerivedWriter {
  /**
   * Removes every row the key contributed (for deletes and re-puts). Not for a value that fails to
   * decode: the rows of the last good value stay (src/store/undecodable-keys.ts).
   */
  remove(key: KafscaleKey): void;
  /** Inserts the rows for a decoded value; call remove() first. */
  insert(entry: DecodedEntry, modRevision: number, lease: string): void;
  /**
   * remove() then insert() for a key's new value: the same rows as a result. Committed offsets and
   * end offsets (nearly every change of a busy cluster, nearly every key of a first load) are one
   * upsert: an existing row is updated in place, which writes only the row's own page (deleting and
   * inserting a committed offset also rewrites its entry in the committed_offsets_topic index, 0.51
   * of 2.56 WAL frames a change at size L, 2026-11-26, bench/write-pages.ts), and a new one is
   * inserted without an update and a delete that find nothing first.
   */
  replace(key: KafscaleKey, entry: DecodedEntry, modRevision: number, lease: string): void;
}

/** Prepares the statements once and returns the derived-row writer. */
export function createDerivedWriter(db: Db): DerivedWriter {
  const s = {
    delCluster: db.prepare("DELETE FROM cluster"),
    delBrokers: db.prepare("DELETE FROM brokers"),
    delTopics: db.prepare("DELETE FROM topics"),
    delPartitions: db.prepare("DELETE FROM partitions"),
    insCluster: db.prepare(
      "INSERT INTO cluster (id, controller_id, cluster_name, cluster_id, mod_revision) VALUES (1, ?, ?, ?, ?)",
    ),
    // Counted from the rows, not the value: duplicate names in a snapshot collapse to one row.
    countCluster: db.prepare(
      "UPDATE cluster SET topic_count = (SELECT count(*) FROM topics), partition_count = (SELECT count(*) FROM partitions)",
    ),
    insBroker: db.prepare("INSERT OR REPLACE INTO brokers (node_id, host, port, rack) VALUES (?, ?, ?, ?)"),
    insTopic: db.prepare(
      "INSERT OR REPLACE INTO topics (name, topic_id, is_internal, error_code, partition_count) VALUES (?, ?, ?, ?, ?)",
    ),
    insPartition: db.prepare(
      `INSERT OR REPLACE INTO partitions (topic, partition, leader, leader_epoch, replicas, isr, offline_replicas, error_code)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    delConfig: db.prepare("DELETE FROM topic_configs WHERE topic = ?"),
    insConfig: db.prepare(
      `INSERT INTO topic_configs (topic, name, partitions, replication_factor, retention_ms, retention_bytes,
         segment_bytes, created_at, config, mod_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    delPartitionState: db.prepare("DELETE FROM partition_states WHERE topic = ? AND partition = ?"),
    insPartitionState: db.prepare(
      `INSERT INTO partition_states (topic, partition, leader_broker, leader_epoch, log_start_offset, log_end_offset,
         high_watermark, active_segment, segments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    delEndOffset: db.prepare("DELETE FROM end_offsets WHERE topic = ? AND partition = ?"),
    insEndOffset: db.prepare(
      // An upsert (insOffset too): replace() writes these without looking for the old row first.
      `INSERT INTO end_offsets (topic, partition, next_offset, mod_revision) VALUES (?, ?, ?, ?)
       ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset, mod_revision = excluded.mod_revision`,
    ),
    delGroup: db.prepare("DELETE FROM consumer_groups WHERE group_id = ?"),
    delMembers: db.prepare("DELETE FROM group_members WHERE group_id = ?"),
    delAssignments: db.prepare("DELETE FROM member_assignments WHERE group_id = ?"),
    insGroup: db.prepare(
      `INSERT INTO consumer_groups (group_id, state, protocol_type, protocol, leader, generation_id,
         rebalance_timeout_ms, mod_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insMember: db.prepare(
      `INSERT OR REPLACE INTO group_members (group_id, member_id, client_id, client_host, heartbeat_at, subscriptions,
         session_timeout_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    insAssignment: db.prepare(
      "INSERT OR IGNORE INTO member_assignments (group_id, member_id, topic, partition) VALUES (?, ?, ?, ?)",
    ),
    delOffset: db.prepare("DELETE FROM committed_offsets WHERE group_id = ? AND topic = ? AND partition = ?"),
    insOffset: db.prepare(
      `INSERT INTO committed_offsets (group_id, topic, partition, committed_offset, metadata, committed_at, mod_revision)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         metadata = excluded.metadata, committed_at = excluded.committed_at, mod_revision = excluded.mod_revision`,
    ),
    delPartitionLease: db.prepare("DELETE FROM partition_leases WHERE topic = ? AND partition = ?"),
    insPartitionLease: db.prepare(
      "INSERT INTO partition_leases (topic, partition, broker_id, lease) VALUES (?, ?, ?, ?)",
    ),
    delGroupLease: db.prepare("DELETE FROM group_leases WHERE group_id = ?"),
    insGroupLease: db.prepare("INSERT INTO group_leases (group_id, broker_id, lease) VALUES (?, ?, ?)"),
    delRegistration: db.prepare("DELETE FROM broker_registrations WHERE broker_id = ?"),
    insRegistration: db.prepare(
      `INSERT INTO broker_registrations (broker_id, host, port, rack, started_at, last_heartbeat, version)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    delAssignment: db.prepare("DELETE FROM partition_assignments WHERE topic = ? AND partition = ?"),
    insPartitionAssignment: db.prepare(
      "INSERT INTO partition_assignments (topic, partition, broker_id, epoch, assigned_at) VALUES (?, ?, ?, ?, ?)",
    ),
  };

  const remove = (key: KafscaleKey): void => {
    switch (key.kind) {
      case "snapshot":
        s.delCluster.run();
        s.delBrokers.run();
        s.delTopics.run();
        s.delPartitions.run();
        return;
      case "topic_config":
        s.delConfig.run(key.topic);
        return;
      case "partition_state":
        s.delPartitionState.run(key.topic, key.partition);
        return;
      case "next_offset":
        s.delEndOffset.run(key.topic, key.partition);
        return;
      case "group_metadata":
        s.delGroup.run(key.groupId);
        s.delMembers.run(key.groupId);
        s.delAssignments.run(key.groupId);
        return;
      case "committed_offset":
        s.delOffset.run(key.groupId, key.topic, key.partition);
        return;
      case "partition_lease":
        s.delPartitionLease.run(key.topic, key.partition);
        return;
      case "group_lease":
        s.delGroupLease.run(key.groupId);
        return;
      case "broker_registration":
        s.delRegistration.run(key.brokerId);
        return;
      case "partition_assignment":
        s.delAssignment.run(key.topic, key.partition);
        return;
      case "unknown":
        return;
      default:
        // A new key kind fails to compile here until it says which rows it owns.
        return unhandledKind(key);
    }
  };

  const insert = (entry: DecodedEntry, modRevision: number, lease: string): void => {
    switch (entry.kind) {
      case "snapshot": {
        const v = entry.value;
        s.insCluster.run(v.controllerId, v.clusterName, v.clusterId, modRevision);
        for (const b of v.brokers) s.insBroker.run(b.nodeId, b.host, b.port, b.rack);
        for (const t of v.topics) {
          s.insTopic.run(t.name, t.topicId, t.isInternal ? 1 : 0, t.errorCode, t.partitions.length);
          for (const p of t.partitions) {
            s.insPartition.run(
              t.name,
              p.partition,
              p.leader,
              p.leaderEpoch,
              JSON.stringify(p.replicas),
              JSON.stringify(p.isr),
              JSON.stringify(p.offlineReplicas),
              p.errorCode,
            );
          }
        }
        s.countCluster.run();
        return;
      }
      case "topic_config": {
        const c = entry.value;
        s.insConfig.run(
          entry.topic,
          c.name,
          c.partitions,
          c.replicationFactor,
          c.retentionMs,
          c.retentionBytes,
          c.segmentBytes,
          c.createdAt,
          JSON.stringify(c.config),
          modRevision,
        );
        return;
      }
      case "partition_state": {
        const p = entry.value;
        s.insPartitionState.run(
          entry.topic,
          entry.partition,
          p.leaderBroker,
          p.leaderEpoch,
          p.logStartOffset,
          p.logEndOffset,
          p.highWatermark,
          p.activeSegment,
          JSON.stringify(p.segments),
        );
        return;
      }
      case "next_offset":
        s.insEndOffset.run(entry.topic, entry.partition, entry.value, modRevision);
        return;
      case "group_metadata": {
        const g = entry.value;
        s.insGroup.run(
          entry.groupId,
          g.state,
          g.protocolType,
          g.protocol,
          g.leader,
          g.generationId,
          g.rebalanceTimeoutMs,
          modRevision,
        );
        for (const m of g.members) {
          s.insMember.run(
            entry.groupId,
            m.memberId,
            m.clientId,
            m.clientHost,
            m.heartbeatAt,
            JSON.stringify(m.subscriptions),
            m.sessionTimeoutMs,
          );
          for (const a of m.assignments) {
            for (const partition of a.partitions) s.insAssignment.run(entry.groupId, m.memberId, a.topic, partition);
          }
        }
        return;
      }
      case "committed_offset": {
        const o = entry.value;
        s.insOffset.run(entry.groupId, entry.topic, entry.partition, o.offset, o.metadata, o.committedAt, modRevision);
        return;
      }
      case "partition_lease":
        s.insPartitionLease.run(entry.topic, entry.partition, entry.value, lease);
        return;
      case "group_lease":
        s.insGroupLease.run(entry.groupId, entry.value, lease);
        return;
      case "broker_registration": {
        const r = entry.value;
        s.insRegistration.run(entry.brokerId, r.host, r.port, r.rack, r.startedAt, r.lastHeartbeat, r.version);
        return;
      }
      case "partition_assignment": {
        const a = entry.value;
        s.insPartitionAssignment.run(entry.topic, entry.partition, a.brokerId, a.epoch, a.assignedAt);
        return;
      }
      case "unknown":
        return;
      default:
        return unhandledKind(entry);
    }
  };

  const replace = (key: KafscaleKey, entry: DecodedEntry, modRevision: number, lease: string): void => {
    // Their inserts are upserts: a row that is there is updated in place.
    if (entry.kind !== "committed_offset" && entry.kind !== "next_offset") remove(key);
    insert(entry, modRevision, lease);
  };

  return { remove, insert, replace };
}
