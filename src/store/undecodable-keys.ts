/**
 * Keys whose current value does not decode, and the last value of each that did (table
 * undecodable_keys, migration 5). The write path keeps a key's derived rows when a new value fails to
 * decode, so answers keep serving the last good value instead of a cluster with a hole in it; this
 * module remembers which keys are in that state and tells each answer which of them it depends on,
 * so the answer can say so. The table is empty on a healthy cluster, and every read here is an index
 * seek or a short range, run only when some key is undecodable (sync_state's count says so).
 */
import type { Db } from "./database.js";
import { SELECTED_TOPICS_CTE } from "./group-topics.js";
import { KAFSCALE_PREFIX, keys } from "../kafscale/keys.js";

/** What an answer depends on, in terms of etcd keys (each tool declares it from its arguments). */
export interface KeyDependencies {
  /** The snapshot key: brokers, topics, partitions. */
  snapshot?: boolean;
  /** The config keys of these topics, or of every topic. */
  topicConfigs?: readonly string[] | "all";
  /** The metadata key of this group, or of every group. */
  groupMetadata?: string | { all: true };
  /**
   * A group's committed offsets on these topics (null: all of its topics) and the end offsets
   * (next_offset) of the same topics (null: the topics the group commits to or is assigned).
   */
  groupOffsets?: { groupId: string; topics: readonly string[] | null };
}

/** One undecodable key an answer depends on. */
export interface UndecodableKey {
  key: string;
  /** mod_revision of the current, undecodable value. */
  revision: number;
  reason: string;
  /** mod_revision of the value still served, or null when no value of this key ever decoded here. */
  lastGoodRevision: number | null;
}

/** A held key's last good value, raw, as etcd had it at `revision`. */
export interface LastGoodValue {
  key: string;
  value: Buffer;
  revision: number;
}

export interface UndecodableKeysWriter {
  /**
   * Call first in every write transaction: finds out once whether any key is held, so that on a
   * healthy cluster release() costs nothing per put.
   */
  begin(): void;
  /**
   * Call before the kv row takes an undecodable value: a key not held yet keeps the value it has
   * now (if that one decoded) as its last good value; a key already held keeps the one it has.
   */
  hold(key: string, kind: string): void;
  /** The key's value decodes again, or the key is gone: nothing held any more. */
  release(key: string): void;
}

export interface UndecodableKeys {
  /** The undecodable keys among `deps`, sorted by key: at most `limit`, and how many there are. */
  affecting(deps: KeyDependencies, limit: number): { keys: UndecodableKey[]; total: number };
  /** Every undecodable key, sorted: at most `limit`, and how many there are. */
  all(limit: number): { keys: UndecodableKey[]; total: number };
  /** Every held key's last good value (for verify, which derives the kept rows from them again). */
  lastGoodValues(): LastGoodValue[];
}

interface Row {
  key: string;
  revision: number;
  reason: string;
  last_good_revision: number | null;
  /** How many rows the statement matched before its LIMIT. */
  total: number;
}

/**
 * The columns every lookup returns: the key's state from kv, its last good revision from here, and
 * the number of matches (a window count, so a flood of undecodable keys costs an index count, not
 * rows carried into JavaScript).
 */
const SELECT = `SELECT u.key, kv.mod_revision AS revision, kv.decode_error AS reason, u.last_good_revision,
    count(*) OVER () AS total
  FROM undecodable_keys u JOIN kv ON kv.key = u.key`;

/** Upper bound of a key range: the prefix with its last character incremented ('/' → '0'). */
const rangeEnd = (prefix: string): string => `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;

/** Prepares the write-side statements (used inside the writer's transactions). */
export function createUndecodableKeysWriter(db: Db): UndecodableKeysWriter {
  // A value that decoded has decode_error NULL in kv; `WHERE true` resolves the upsert's parse ambiguity.
  const hold = db.prepare(
    `INSERT INTO undecodable_keys (key, kind, last_good_revision, last_good_value)
     SELECT @key, @kind, kv.mod_revision, kv.value FROM (SELECT 1) LEFT JOIN kv ON kv.key = @key AND kv.decode_error IS NULL
     WHERE true
     ON CONFLICT(key) DO NOTHING`,
  );
  const release = db.prepare("DELETE FROM undecodable_keys WHERE key = ?");
  const anyHeld = db.prepare<[], { one: number }>("SELECT 1 AS one FROM undecodable_keys LIMIT 1");
  // Whether the table may hold rows in the current transaction: only hold() adds rows, and begin()
  // re-reads it per transaction, so a rolled-back transaction cannot leave a wrong answer behind.
  let mayHold = true;
  return {
    begin: () => {
      mayHold = anyHeld.get() !== undefined;
    },
    hold: (key, kind) => {
      hold.run({ key, kind });
      mayHold = true;
    },
    release: (key) => {
      if (mayHold) release.run(key);
    },
  };
}

/** Prepares the read-side statements once. */
export function createUndecodableKeys(db: Db): UndecodableKeys {
  const s = {
    exact: db.prepare<[string, number], Row>(`${SELECT} WHERE u.key IN (SELECT value FROM json_each(?)) ORDER BY u.key LIMIT ?`),
    ofKind: db.prepare<[string, number], Row>(`${SELECT} WHERE u.kind = ? ORDER BY u.key LIMIT ?`),
    inRange: db.prepare<[string, string, string, number], Row>(
      `${SELECT} WHERE u.key >= ? AND u.key < ? AND u.kind = ? ORDER BY u.key LIMIT ?`,
    ),
    // The end offsets of the listed topics, or (NULL) of the topics the group commits to or is assigned.
    endOffsets: db.prepare<{ topics: string | null; group: string; limit: number }, Row>(
      `WITH RECURSIVE ${SELECTED_TOPICS_CTE}
       SELECT u.key, kv.mod_revision AS revision, kv.decode_error AS reason, u.last_good_revision,
              count(*) OVER () AS total
       FROM selected
       JOIN undecodable_keys u ON u.key > '/kafscale/topics/' || selected.topic || '/'
                              AND u.key < '/kafscale/topics/' || selected.topic || '0'
                              AND u.kind = 'next_offset'
       JOIN kv ON kv.key = u.key
       ORDER BY u.key LIMIT @limit`,
    ),
    all: db.prepare<[number], Row>(`${SELECT} ORDER BY u.key LIMIT ?`),
    lastGood: db.prepare<[], { key: string; value: Buffer; revision: number }>(
      `SELECT key, last_good_value AS value, last_good_revision AS revision FROM undecodable_keys
       WHERE last_good_value IS NOT NULL ORDER BY key`,
    ),
  };

  /**
   * The first `limit` matches of every dependency, and the total count. The dependencies are of
   * different key kinds, so their matches never overlap and the counts add up; the first `limit`
   * keys overall are among the first `limit` of each.
   */
  const collect = (deps: KeyDependencies, limit: number): { rows: Row[]; total: number } => {
    const exact = new Set<string>();
    const parts: Row[][] = [];
    if (deps.snapshot) exact.add(keys.snapshot());
    if (deps.topicConfigs === "all") parts.push(s.ofKind.all("topic_config", limit));
    else for (const topic of deps.topicConfigs ?? []) exact.add(keys.topicConfig(topic));
    if (typeof deps.groupMetadata === "string") exact.add(keys.groupMetadata(deps.groupMetadata));
    else if (deps.groupMetadata) parts.push(s.ofKind.all("group_metadata", limit));
    if (deps.groupOffsets) {
      const { groupId, topics } = deps.groupOffsets;
      const prefixes = topics === null ? [""] : [...new Set(topics)].map((t) => `${t}/`);
      for (const prefix of prefixes) {
        const start = `${KAFSCALE_PREFIX}consumers/${groupId}/offsets/${prefix}`;
        parts.push(s.inRange.all(start, rangeEnd(start), "committed_offset", limit));
      }
      parts.push(s.endOffsets.all({ topics: topics === null ? null : JSON.stringify(topics), group: groupId, limit }));
    }
    if (exact.size > 0) parts.push(s.exact.all(JSON.stringify([...exact]), limit));
    return { rows: parts.flat(), total: parts.reduce((sum, rows) => sum + (rows[0]?.total ?? 0), 0) };
  };

  const toKey = (r: Row): UndecodableKey => ({
    key: r.key,
    revision: r.revision,
    reason: r.reason,
    lastGoodRevision: r.last_good_revision,
  });

  return {
    affecting: (deps, limit) => {
      const { rows, total } = collect(deps, limit);
      const sorted = rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return { keys: sorted.slice(0, limit).map(toKey), total };
    },
    all: (limit) => {
      const rows = s.all.all(limit);
      return { keys: rows.map(toKey), total: rows[0]?.total ?? 0 };
    },
    lastGoodValues: () => s.lastGood.all(),
  };
}
