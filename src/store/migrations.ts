/**
 * Numbered schema migrations. Each runs once, in one transaction, recorded in `PRAGMA user_version`.
 * The tables and the `v_*` views are a public interface (docs/SCHEMA.md): add migrations, never edit
 * a released one.
 */
import type { Db } from "./database.js";
import { encodeSeries, lagPointsSql, storable } from "./lag-history-codec.js";
import type { SeriesPoint } from "../kafscale/lag-series.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql`, in the same transaction: for data SQL alone cannot convert. */
  data?: (db: Db) => void;
}

const readModel = `
-- Raw mirror of every key under the prefix: the source of truth for verify and resync, and the
-- place unknown keys are kept so nothing is lost.
CREATE TABLE kv (
  key             TEXT PRIMARY KEY,
  value           BLOB NOT NULL,
  kind            TEXT NOT NULL,
  mod_revision    INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  version         INTEGER NOT NULL,
  lease           TEXT NOT NULL DEFAULT '0',
  decode_error    TEXT
) WITHOUT ROWID;
CREATE INDEX kv_kind ON kv(kind);
CREATE INDEX kv_decode_errors ON kv(key) WHERE decode_error IS NOT NULL;

CREATE TABLE cluster (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  controller_id INTEGER NOT NULL,
  cluster_name  TEXT,
  cluster_id    TEXT,
  mod_revision  INTEGER NOT NULL
);
CREATE TABLE brokers (
  node_id INTEGER PRIMARY KEY,
  host    TEXT NOT NULL,
  port    INTEGER NOT NULL,
  rack    TEXT
);
CREATE TABLE topics (
  name            TEXT PRIMARY KEY,
  topic_id        TEXT NOT NULL,
  is_internal     INTEGER NOT NULL,
  error_code      INTEGER NOT NULL,
  partition_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE partitions (
  topic            TEXT NOT NULL,
  partition        INTEGER NOT NULL,
  leader           INTEGER NOT NULL,
  leader_epoch     INTEGER NOT NULL,
  replicas         TEXT NOT NULL, -- JSON array of node ids
  isr              TEXT NOT NULL, -- JSON array
  offline_replicas TEXT NOT NULL, -- JSON array
  error_code       INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TABLE partition_states (
  topic            TEXT NOT NULL,
  partition        INTEGER NOT NULL,
  leader_broker    TEXT NOT NULL,
  leader_epoch     INTEGER NOT NULL,
  log_start_offset INTEGER NOT NULL,
  log_end_offset   INTEGER NOT NULL,
  high_watermark   INTEGER NOT NULL,
  active_segment   TEXT NOT NULL,
  segments         TEXT NOT NULL, -- JSON array of {baseOffset,sizeBytes,createdAt}
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TABLE end_offsets (
  topic        TEXT NOT NULL,
  partition    INTEGER NOT NULL,
  next_offset  INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TABLE topic_configs (
  topic              TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  partitions         INTEGER NOT NULL,
  replication_factor INTEGER NOT NULL,
  retention_ms       INTEGER NOT NULL,
  retention_bytes    INTEGER NOT NULL,
  segment_bytes      INTEGER NOT NULL,
  created_at         TEXT NOT NULL,
  config             TEXT NOT NULL, -- JSON object, {} when empty
  mod_revision       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE consumer_groups (
  group_id             TEXT PRIMARY KEY,
  state                TEXT NOT NULL,
  protocol_type        TEXT NOT NULL,
  protocol             TEXT NOT NULL,
  leader               TEXT NOT NULL,
  generation_id        INTEGER NOT NULL,
  rebalance_timeout_ms INTEGER NOT NULL,
  mod_revision         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE group_members (
  group_id           TEXT NOT NULL,
  member_id          TEXT NOT NULL,
  client_id          TEXT NOT NULL,
  client_host        TEXT NOT NULL,
  heartbeat_at       TEXT NOT NULL,
  subscriptions      TEXT NOT NULL, -- JSON array of topic names
  session_timeout_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE TABLE member_assignments (
  group_id  TEXT NOT NULL,
  member_id TEXT NOT NULL,
  topic     TEXT NOT NULL,
  partition INTEGER NOT NULL,
  PRIMARY KEY (group_id, member_id, topic, partition)
) WITHOUT ROWID;
CREATE TABLE committed_offsets (
  group_id         TEXT NOT NULL,
  topic            TEXT NOT NULL,
  partition        INTEGER NOT NULL,
  committed_offset INTEGER NOT NULL,
  metadata         TEXT NOT NULL,
  committed_at     TEXT NOT NULL,
  mod_revision     INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
CREATE INDEX committed_offsets_topic ON committed_offsets(topic, partition);
CREATE TABLE partition_leases (
  topic     TEXT NOT NULL,
  partition INTEGER NOT NULL,
  broker_id INTEGER NOT NULL,
  lease     TEXT NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TABLE group_leases (
  group_id  TEXT PRIMARY KEY,
  broker_id INTEGER NOT NULL,
  lease     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE broker_registrations (
  broker_id      TEXT PRIMARY KEY,
  host           TEXT NOT NULL,
  port           INTEGER NOT NULL,
  rack           TEXT NOT NULL,
  started_at     TEXT NOT NULL,
  last_heartbeat TEXT NOT NULL,
  version        TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE partition_assignments (
  topic       TEXT NOT NULL,
  partition   INTEGER NOT NULL,
  broker_id   TEXT NOT NULL,
  epoch       INTEGER NOT NULL,
  assigned_at TEXT NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

-- One row: where the mirror stands. Times are Unix milliseconds.
CREATE TABLE sync_state (
  id                INTEGER PRIMARY KEY CHECK (id = 1),
  revision          INTEGER NOT NULL DEFAULT 0,
  initial_sync_done INTEGER NOT NULL DEFAULT 0,
  synced_at         INTEGER,
  sync_phase        TEXT NOT NULL DEFAULT 'idle',
  link_state        TEXT NOT NULL DEFAULT 'down',
  link_since        INTEGER,
  last_error        TEXT,
  last_error_at     INTEGER,
  resync_count      INTEGER NOT NULL DEFAULT 0,
  source            TEXT NOT NULL DEFAULT 'etcd'
);
INSERT INTO sync_state (id) VALUES (1);

-- Bounded history of applied changes (size: KAFSCALE_MCP_CHANGE_LOG_LIMIT).
CREATE TABLE change_log (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  revision INTEGER NOT NULL,
  at       INTEGER NOT NULL,
  op       TEXT NOT NULL CHECK (op IN ('put', 'delete')),
  key      TEXT NOT NULL,
  kind     TEXT NOT NULL
);
CREATE INDEX change_log_revision ON change_log(revision);

-- Values that failed to decode (bounded like the change log). kv.decode_error holds the current state.
CREATE TABLE decode_errors (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  key         TEXT NOT NULL,
  revision    INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);

-- Every consumer group: those with a metadata key and those known only from committed offsets
-- (Kafscale deletes the metadata key when a group empties; its offsets live on).
CREATE VIEW v_groups AS
WITH ids AS (
  SELECT group_id FROM consumer_groups
  UNION
  SELECT DISTINCT group_id FROM committed_offsets
)
SELECT ids.group_id,
       COALESCE(cg.state, 'empty')      AS state,
       COALESCE(cg.protocol_type, '')   AS protocol_type,
       (SELECT count(*) FROM group_members m WHERE m.group_id = ids.group_id) AS member_count,
       cg.group_id IS NOT NULL           AS has_metadata
FROM ids LEFT JOIN consumer_groups cg ON cg.group_id = ids.group_id;

-- Lag per committed (group, topic, partition): max(0, next_offset - committed), a missing next_offset
-- counting as 0 — exactly the broker's own lag sampler (kafscale-contract.md §10).
CREATE VIEW v_partition_lag AS
SELECT co.group_id,
       co.topic,
       co.partition,
       co.committed_offset,
       COALESCE(eo.next_offset, 0)                              AS end_offset,
       MAX(0, COALESCE(eo.next_offset, 0) - co.committed_offset) AS lag,
       co.committed_at,
       p.topic IS NOT NULL                                      AS in_snapshot
FROM committed_offsets co
LEFT JOIN end_offsets eo ON eo.topic = co.topic AND eo.partition = co.partition
LEFT JOIN partitions p   ON p.topic = co.topic AND p.partition = co.partition;

CREATE VIEW v_group_lag AS
SELECT group_id,
       count(*)              AS partitions,
       count(DISTINCT topic) AS topics,
       sum(lag)              AS total_lag,
       max(lag)              AS max_lag,
       max(committed_at)     AS last_commit_at
FROM v_partition_lag
GROUP BY group_id;

CREATE VIEW v_topic_summary AS
SELECT t.name,
       t.partition_count,
       t.error_code,
       t.is_internal,
       (SELECT COALESCE(sum(next_offset), 0) FROM end_offsets eo WHERE eo.topic = t.name) AS end_offset_total,
       tc.topic IS NOT NULL                                                            AS has_config,
       tc.retention_ms,
       tc.retention_bytes,
       (SELECT count(DISTINCT group_id) FROM committed_offsets co WHERE co.topic = t.name) AS consumer_groups,
       (SELECT COALESCE(sum(lag), 0) FROM v_partition_lag l WHERE l.topic = t.name)       AS total_lag,
       (SELECT count(*) FROM partition_leases pl WHERE pl.topic = t.name)                AS leased_partitions
FROM topics t
LEFT JOIN topic_configs tc ON tc.topic = t.name;
`;

const metrics = `
-- Broker and operator /metrics scrapes (src/sync/metrics-poller.ts). Times are Unix milliseconds.
-- A target is one URL scraped on the schedule: "broker:<node_id>" (per-broker URL template),
-- "broker:url" (the single KAFSCALE_MCP_BROKER_METRICS_URL) or "operator". Targets that leave the
-- configuration or the snapshot are removed here, with their last view; their samples age out.
CREATE TABLE scrape_targets (
  target               TEXT PRIMARY KEY,
  url                  TEXT NOT NULL,
  kind                 TEXT NOT NULL CHECK (kind IN ('broker', 'operator')),
  node_id              INTEGER,          -- broker node id in per-broker mode, else NULL
  last_attempt_at      INTEGER,
  last_success_at      INTEGER,
  last_error           TEXT,             -- kept after a recovery; compare last_error_at with last_success_at
  last_error_at        INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  last_duration_ms     INTEGER
) WITHOUT ROWID;

-- One row per scrape attempt, good or failed (bounded by KAFSCALE_MCP_METRICS_RETENTION).
CREATE TABLE scrapes (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  target       TEXT NOT NULL,
  scraped_at   INTEGER NOT NULL,  -- when the request started
  ok           INTEGER NOT NULL,  -- 1 = parsed and stored, 0 = failed (see error)
  duration_ms  INTEGER NOT NULL,
  sample_count INTEGER NOT NULL,  -- kafscale_* samples stored for this scrape
  error        TEXT
);
CREATE INDEX scrapes_target ON scrapes(target, scraped_at);

-- Every kafscale_* sample of every good scrape (other families, e.g. the operator's go_* runtime
-- metrics, are not kept). labels is canonical JSON: keys sorted, '{}' when none, so equal label
-- sets compare equal as text. value NULL stands for NaN (SQLite has no NaN); ±Inf are kept.
CREATE TABLE metric_samples (
  scrape_id  INTEGER NOT NULL,
  target     TEXT NOT NULL,
  name       TEXT NOT NULL,
  labels     TEXT NOT NULL,
  value      REAL,
  scraped_at INTEGER NOT NULL
);
CREATE INDEX metric_samples_target ON metric_samples(target, scraped_at);
CREATE INDEX metric_samples_name ON metric_samples(name, scraped_at);

-- The last GOOD derived view per broker target (JSON of BrokerView, src/sync/broker-view.ts).
-- Failures never touch it, so the last good values stay visible with their scraped_at.
CREATE TABLE broker_views (
  target     TEXT PRIMARY KEY,
  node_id    INTEGER,
  scraped_at INTEGER NOT NULL,
  view       TEXT NOT NULL
) WITHOUT ROWID;

-- The last GOOD operator view (JSON of OperatorView): snapshot age, stale and access flags.
CREATE TABLE operator_view (
  target     TEXT PRIMARY KEY,
  scraped_at INTEGER NOT NULL,
  view       TEXT NOT NULL
) WITHOUT ROWID;

-- The current value of every series: the samples of each target's most recent good scrape still
-- in history. A series the target stopped exporting disappears with its next good scrape.
--   SELECT target, value FROM v_latest_metrics WHERE name = 'kafscale_produce_rps';
--   SELECT target, labels, value FROM v_latest_metrics WHERE name = 'kafscale_s3_health_state' AND value = 1;
CREATE VIEW v_latest_metrics AS
SELECT m.target, m.name, m.labels, m.value, m.scraped_at
FROM (SELECT target, max(scraped_at) AS scraped_at FROM scrapes WHERE ok = 1 GROUP BY target) last
JOIN metric_samples m ON m.target = last.target AND m.scraped_at = last.scraped_at;
`;

const audit = `
-- The audit trail (src/store/audit-store.ts, docs/SECURITY.md): one row per tool call (allowed, failed
-- or denied) and per request refused at the HTTP layer (bad token, refused Host/Origin, rate limit).
-- Rows are only inserted; KAFSCALE_MCP_AUDIT_RETENTION prunes old ones. Times are ISO-8601 UTC text.
--   SELECT at, subject, tool, outcome, reason FROM audit_log WHERE outcome = 'denied' ORDER BY at DESC LIMIT 20;
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          TEXT NOT NULL,     -- e.g. 2025-06-18T09:30:00.123Z
  request_id  TEXT,              -- also sent back as the X-Request-Id response header
  subject     TEXT,              -- "<iss>#<sub>", "static-token", "anonymous"; NULL when unauthenticated
  client_id   TEXT,              -- the token's azp / client_id
  auth_mode   TEXT NOT NULL,     -- none | static | oidc | oidc+static (configured mode when unauthenticated)
  tool        TEXT,              -- NULL for refusals before a tool was named
  arguments   TEXT,              -- JSON of the tool arguments, truncated to 4 KiB
  outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'tool_error', 'internal_error', 'denied')),
  reason      TEXT,              -- why denied or failed
  status      INTEGER,           -- HTTP status of a refusal (401, 403, 413, 429, 503)
  latency_ms  REAL,
  revision    INTEGER,           -- etcd revision the answer was served from
  remote_addr TEXT,
  session_id  TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_subject ON audit_log(subject, at);
`;

const clusterCounts = `
-- Topic and partition totals of the snapshot, kept with it (src/store/derived.ts) so cluster_status
-- does not count 100k partition rows on every call. Backfilled for databases that already hold one.
ALTER TABLE cluster ADD COLUMN topic_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cluster ADD COLUMN partition_count INTEGER NOT NULL DEFAULT 0;
UPDATE cluster SET topic_count = (SELECT count(*) FROM topics), partition_count = (SELECT count(*) FROM partitions);
`;

const decodeTruth = `
-- Keys whose current value does not decode (exactly the kv rows with decode_error set), with the last
-- value of each that did. The rows that value contributed to the other tables are kept (src/store/
-- writer.ts), and every answer that depends on the key says so (freshness.stale_reasons).
CREATE TABLE undecodable_keys (
  key                TEXT PRIMARY KEY,
  kind               TEXT NOT NULL,
  last_good_revision INTEGER,  -- mod_revision of the last value that decoded; NULL when none did here
  last_good_value    BLOB      -- that value, raw (verify derives the kept rows from it again)
) WITHOUT ROWID;
CREATE INDEX undecodable_keys_kind ON undecodable_keys(kind, key);
-- Before this migration an undecodable value removed its rows: nothing is kept for these.
INSERT INTO undecodable_keys (key, kind) SELECT key, kind FROM kv WHERE decode_error IS NOT NULL;

-- A value that decodes but carries something no reader can use (a negative committed offset, a
-- duplicate topic): the reason, while the value is current. decode_errors keeps the history of both.
ALTER TABLE kv ADD COLUMN decode_warning TEXT;
ALTER TABLE decode_errors ADD COLUMN severity TEXT NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warning'));
UPDATE kv SET decode_warning = n.warning
FROM (SELECT '/kafscale/consumers/' || group_id || '/offsets/' || topic || '/' || partition AS key,
             'committed offset ' || committed_offset || ' is negative: no usable commit' AS warning
      FROM committed_offsets WHERE committed_offset < 0) n
WHERE kv.key = n.key;

-- One lag rule everywhere (docs/SCHEMA.md "The lag rule"): lag counts only a usable commit
-- (committed_offset >= 0) on a partition the snapshot lists, exactly the partitions the broker's own
-- lag sampler looks at. Other commits are listed, with lag NULL, and left out of every total.
-- v_topic_summary sums v_partition_lag.lag by name, so it follows the new rule unchanged.
DROP VIEW v_group_lag;
DROP VIEW v_partition_lag;
DROP VIEW v_groups;

CREATE VIEW v_partition_lag AS
SELECT co.group_id,
       co.topic,
       co.partition,
       co.committed_offset,
       COALESCE(eo.next_offset, 0) AS end_offset,
       CASE WHEN p.topic IS NOT NULL AND co.committed_offset >= 0
            THEN MAX(0, COALESCE(eo.next_offset, 0) - co.committed_offset) END AS lag,
       co.committed_at,
       p.topic IS NOT NULL          AS in_snapshot,
       co.committed_offset >= 0     AS committed
FROM committed_offsets co
LEFT JOIN end_offsets eo ON eo.topic = co.topic AND eo.partition = co.partition
LEFT JOIN partitions p   ON p.topic = co.topic AND p.partition = co.partition;

CREATE VIEW v_group_lag AS
SELECT group_id,
       count(lag)                                         AS partitions,
       count(DISTINCT CASE WHEN lag IS NOT NULL THEN topic END) AS topics,
       COALESCE(sum(lag), 0)                              AS total_lag,
       max(lag)                                           AS max_lag,
       max(CASE WHEN committed THEN committed_at END)     AS last_commit_at,
       count(*) - count(lag)                              AS uncounted_partitions
FROM v_partition_lag
GROUP BY group_id;

-- A group whose metadata key holds a value that never decoded here is listed too, with state
-- 'unknown' and has_metadata 1: it has metadata, just none this service can read.
CREATE VIEW v_groups AS
WITH undecodable AS (
  SELECT substr(key, 21, length(key) - 29) AS group_id FROM undecodable_keys WHERE kind = 'group_metadata'
), ids AS (
  SELECT group_id FROM consumer_groups
  UNION
  SELECT DISTINCT group_id FROM committed_offsets
  UNION
  SELECT group_id FROM undecodable
)
SELECT ids.group_id,
       COALESCE(cg.state, CASE WHEN u.group_id IS NOT NULL THEN 'unknown' ELSE 'empty' END) AS state,
       COALESCE(cg.protocol_type, '')   AS protocol_type,
       (SELECT count(*) FROM group_members m WHERE m.group_id = ids.group_id) AS member_count,
       cg.group_id IS NOT NULL OR u.group_id IS NOT NULL AS has_metadata
FROM ids
LEFT JOIN consumer_groups cg ON cg.group_id = ids.group_id
LEFT JOIN undecodable u ON u.group_id = ids.group_id;
`;

const lagHistory = `
-- Consumer lag over time (docs/LAG.md). Times are Unix milliseconds.
--
-- History, written in the same transaction as the change that causes it (src/store/lag-history.ts):
-- a point is kept when the value changed and at least KAFSCALE_MCP_LAG_SAMPLE_INTERVAL passed since
-- the series' previous kept point; a series keeps at most KAFSCALE_MCP_LAG_WINDOW points, the oldest
-- go first. A deleted key drops its series.
CREATE TABLE lag_end_offset_points (
  topic      TEXT NOT NULL,
  partition  INTEGER NOT NULL,
  at         INTEGER NOT NULL,  -- when the change was applied
  end_offset INTEGER NOT NULL,  -- next_offset
  PRIMARY KEY (topic, partition, at)
) WITHOUT ROWID;
CREATE TABLE lag_commit_points (
  group_id         TEXT NOT NULL,
  topic            TEXT NOT NULL,
  partition        INTEGER NOT NULL,
  at               INTEGER NOT NULL,  -- the commit's committed_at (never later than it was applied), else when applied
  committed_offset INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition, at)
) WITHOUT ROWID;

-- The evaluator's verdicts (src/store/lag-evaluator.ts), one row per partition of each group: the
-- snapshot's partitions of every topic the group committed on or is assigned, plus its commits on
-- partitions the snapshot does not list (the partitions fetch_offsets lists).
CREATE TABLE lag_partition_status (
  group_id      TEXT NOT NULL,
  topic         TEXT NOT NULL,
  partition     INTEGER NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('OK', 'WARN', 'STALL', 'STOP', 'REWIND', 'UNKNOWN')),
  lag           INTEGER,          -- the lag rule; NULL without a usable commit or outside the snapshot
  behind_since  INTEGER,          -- when the end offset passed the committed offset; NULL: caught up or unknown
  consumed_rate REAL,             -- offsets per second over the window; NULL: window too short
  produced_rate REAL,
  since         INTEGER,          -- STOP: last commit; STALL: last change of the offset; REWIND: when it went back
  detail        INTEGER,          -- UNKNOWN: cause (docs/LAG.md); REWIND: the offset before; WARN: lag at the window's start
  recheck_at    INTEGER,          -- when a time rule may change the verdict without any write
  history_start INTEGER,          -- later of the series' first points: the window is complete a span after it
  points        INTEGER NOT NULL, -- commit and end-offset points inside the window
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
CREATE INDEX lag_partition_status_recheck ON lag_partition_status(recheck_at) WHERE recheck_at IS NOT NULL;

-- One row per group with at least one judged partition: the sums consumer_lag answers from.
CREATE TABLE lag_group_status (
  group_id          TEXT PRIMARY KEY,
  status            TEXT NOT NULL CHECK (status IN ('OK', 'WARN', 'ERR', 'UNKNOWN')),
  severity          INTEGER NOT NULL, -- ERR 3, WARN 2, UNKNOWN 1, OK 0
  partitions        INTEGER NOT NULL,
  ok                INTEGER NOT NULL,
  warn              INTEGER NOT NULL,
  stall             INTEGER NOT NULL,
  stop              INTEGER NOT NULL,
  rewind            INTEGER NOT NULL,
  unknown           INTEGER NOT NULL,
  total_lag         INTEGER NOT NULL,
  max_lag           INTEGER,
  max_lag_topic     TEXT,
  max_lag_partition INTEGER,
  behind_since      INTEGER,          -- earliest behind_since of a lagging partition
  trend             TEXT NOT NULL CHECK (trend IN ('growing', 'shrinking', 'steady', 'unknown')),
  consumed_rate     REAL,
  produced_rate     REAL,
  catch_up_seconds  REAL,
  window_from       INTEGER,          -- start of the window judged
  history_start     INTEGER,          -- latest history_start of its partitions
  points            INTEGER NOT NULL,
  worst             TEXT NOT NULL,    -- JSON: the few most urgent partitions that are not OK
                                      --   [{topic, partition, status, lag, behind_since, since, detail}]
  evaluated_at      INTEGER NOT NULL
) WITHOUT ROWID;
-- consumer_lag's orders (src/store/lag-reads.ts), so its first page reads LIMIT rows, not every group.
CREATE INDEX lag_group_status_attention ON lag_group_status(severity DESC, total_lag DESC, group_id);
CREATE INDEX lag_group_status_lag ON lag_group_status(total_lag DESC, group_id);
CREATE INDEX lag_group_status_time_lag ON lag_group_status(behind_since IS NULL, behind_since, group_id);
CREATE INDEX lag_group_status_trend ON lag_group_status(
  CASE trend WHEN 'growing' THEN 3 WHEN 'steady' THEN 2 WHEN 'shrinking' THEN 1 ELSE 0 END DESC,
  produced_rate - consumed_rate DESC, group_id);

-- Where the evaluator stands: every change up to revision and every time rule due by evaluated_at.
CREATE TABLE lag_evaluation (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  evaluated_at       INTEGER,
  revision           INTEGER,
  sample_interval_ms INTEGER,
  window_points      INTEGER
);
INSERT INTO lag_evaluation (id) VALUES (1);

-- Partition statuses with their group's, and the time lag now (wall clock of the reader).
CREATE VIEW v_lag_status AS
SELECT s.group_id,
       s.topic,
       s.partition,
       s.status,
       g.status AS group_status,
       s.lag,
       CASE WHEN s.status = 'UNKNOWN' THEN NULL
            WHEN s.lag = 0 THEN 0
            -- julianday, not unixepoch('subsec'): the view must work in older sqlite3 shells too (3.40 has no subsec).
            WHEN s.behind_since IS NOT NULL
            THEN round(max(0, (julianday('now') - 2440587.5) * 86400000.0 - s.behind_since) / 1000.0, 1) END AS time_lag_seconds,
       s.behind_since,
       s.consumed_rate,
       s.produced_rate,
       s.since,
       s.detail,
       e.evaluated_at
FROM lag_partition_status s
JOIN lag_group_status g ON g.group_id = s.group_id
CROSS JOIN lag_evaluation e;

-- The history begins now for a database that already holds offsets: one point per series.
INSERT INTO lag_commit_points (group_id, topic, partition, at, committed_offset)
SELECT group_id, topic, partition,
       CAST(min(COALESCE(unixepoch(committed_at, 'subsec'), unixepoch('subsec')), unixepoch('subsec')) * 1000 AS INTEGER),
       committed_offset
FROM committed_offsets;
INSERT INTO lag_end_offset_points (topic, partition, at, end_offset)
SELECT topic, partition, CAST(unixepoch('subsec') * 1000 AS INTEGER), next_offset FROM end_offsets;
`;

const changeEvents = `
-- Semantic change events (src/kafscale/change-events.ts, src/store/change-feed.ts): what a change to
-- the cluster's metadata meant, derived in the same transaction as the change. Bounded by
-- KAFSCALE_MCP_EVENTS_RETENTION (time) and KAFSCALE_MCP_EVENTS_LIMIT (rows). Times are Unix ms.
--   SELECT revision, datetime(at / 1000, 'unixepoch'), kind, summary FROM events ORDER BY id DESC LIMIT 20;
CREATE TABLE events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  revision  INTEGER NOT NULL,  -- the change's etcd revision; for a resync, the revision it read
  at        INTEGER NOT NULL,  -- when the service applied (watch) or found (resync) the change
  kind      TEXT NOT NULL,     -- topic_created, group_rebalanced, ... (docs/SCHEMA.md)
  source    TEXT NOT NULL CHECK (source IN ('watch', 'resync')),
  topic     TEXT,
  group_id  TEXT,
  partition INTEGER,           -- set when the event is about exactly one partition
  broker_id INTEGER,
  summary   TEXT NOT NULL,     -- one readable line
  details   TEXT NOT NULL      -- JSON object, fields by kind
);
CREATE INDEX events_revision ON events(revision);
CREATE INDEX events_at ON events(at);
CREATE INDEX events_topic ON events(topic) WHERE topic IS NOT NULL;
CREATE INDEX events_group ON events(group_id) WHERE group_id IS NOT NULL;

-- One row: from where the events table is complete. NULL until the first full load (which makes no
-- events); pruning moves it forward to the newest pruned event.
CREATE TABLE event_feed (
  id                      INTEGER PRIMARY KEY CHECK (id = 1),
  complete_after_revision INTEGER,
  complete_after_at       INTEGER
);
INSERT INTO event_feed (id, complete_after_revision, complete_after_at)
SELECT 1,
       CASE WHEN initial_sync_done = 1 THEN revision END,
       CASE WHEN initial_sync_done = 1 THEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) END
FROM sync_state;
`;

const lagHistoryCompact = `
-- The lag history in compact form (docs/LAG.md, docs/SCHEMA.md): one row per series holding its
-- whole window as a BLOB (src/store/lag-history-codec.ts: delta-of-delta varints, 2-4 bytes a point)
-- instead of one row per point, which cost about 50 bytes a point and nearly quadrupled a database
-- with full windows. lag_end_offset_points and lag_commit_points become views with the same columns
-- that decode the BLOBs in SQL, so every query on the points keeps working.
CREATE TABLE lag_end_offset_series (
  topic     TEXT NOT NULL,
  partition INTEGER NOT NULL,
  points    BLOB NOT NULL,  -- the kept points, oldest first (read them through lag_end_offset_points)
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TABLE lag_commit_series (
  group_id  TEXT NOT NULL,
  topic     TEXT NOT NULL,
  partition INTEGER NOT NULL,
  points    BLOB NOT NULL,  -- the kept points, oldest first (read them through lag_commit_points)
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
-- A stored series that did not decode is never read as points: the service restarts that series and
-- counts it here (docs/RELIABILITY.md).
ALTER TABLE lag_evaluation ADD COLUMN history_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lag_evaluation ADD COLUMN history_error TEXT;
`;

/** The points views: the compact series decoded in SQL, one row per point, as migration 6's tables were. */
const lagPointViews = `
DROP TABLE lag_end_offset_points;
DROP TABLE lag_commit_points;
CREATE VIEW lag_end_offset_points AS
SELECT s.topic, s.partition, json_extract(p.value, '$[0]') AS at, json_extract(p.value, '$[1]') AS end_offset
FROM lag_end_offset_series s, json_each(${lagPointsSql("s.points")}) p;
CREATE VIEW lag_commit_points AS
SELECT s.group_id, s.topic, s.partition,
       json_extract(p.value, '$[0]') AS at, json_extract(p.value, '$[1]') AS committed_offset
FROM lag_commit_series s, json_each(${lagPointsSql("s.points")}) p;
`;

/**
 * Moves migration 6's points into the compact series (every point kept; a point beyond the range
 * the codec stores exactly, which no real offset reaches, is left out), then replaces the tables
 * with the views.
 */
function compactLagHistory(db: Db): void {
  /** Rows read a page at a time (better-sqlite3 runs no insert while a read iterates; a large history must not sit in memory at once). */
  const PAGE = 20_000;
  const copy = (table: string, keyColumns: string[], value: string, series: string): void => {
    const pk = [...keyColumns, "at"].join(", ");
    const read = db.prepare(
      `SELECT ${pk}, ${value} AS value FROM ${table} WHERE (${pk}) > (${pk.replace(/\w+/g, "?")}) ORDER BY ${pk} LIMIT ${PAGE}`,
    );
    const put = db.prepare(`INSERT INTO ${series} (${keyColumns.join(", ")}, points) VALUES (${keyColumns.map(() => "?").join(", ")}, ?)`);
    let key: unknown[] | null = null;
    let points: SeriesPoint[] = [];
    const flush = (): void => {
      if (key !== null && points.length > 0) put.run(...key, encodeSeries(points));
    };
    let after: unknown[] = [...keyColumns.map(() => ""), 0];
    after[keyColumns.indexOf("partition")] = -1;
    for (;;) {
      const rows = read.all(...after) as Record<string, unknown>[];
      for (const row of rows) {
        const next = keyColumns.map((c) => row[c]);
        if (key === null || next.some((part, i) => part !== key?.[i])) {
          flush();
          key = next;
          points = [];
        }
        const point = { at: Number(row.at), value: Number(row.value) };
        if (storable(point)) points.push(point);
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE) break;
      after = [...keyColumns, "at"].map((c) => last[c]);
    }
    flush();
  };
  copy("lag_end_offset_points", ["topic", "partition"], "end_offset", "lag_end_offset_series");
  copy("lag_commit_points", ["group_id", "topic", "partition"], "committed_offset", "lag_commit_series");
  db.exec(lagPointViews);
}

const lagTopicStatus = `
-- Per group and topic, the sums of lag_partition_status (src/store/lag-evaluator.ts writes them in
-- the same transaction as the verdicts they sum): /metrics/lag's kafka_consumergroup_group_topic_sum_lag
-- reads 22k rows here at size L instead of aggregating 200k verdicts per scrape.
CREATE TABLE lag_topic_status (
  group_id   TEXT NOT NULL,
  topic      TEXT NOT NULL,
  partitions INTEGER NOT NULL,  -- judged partitions of the topic
  known      INTEGER NOT NULL,  -- of them, with a known lag (lag IS NOT NULL)
  total_lag  INTEGER NOT NULL,  -- sum of the known lags (0 when none is known)
  max_lag    INTEGER,           -- largest known lag; NULL when none is known
  PRIMARY KEY (group_id, topic)
) WITHOUT ROWID;
INSERT INTO lag_topic_status (group_id, topic, partitions, known, total_lag, max_lag)
SELECT group_id, topic, count(*), count(lag), COALESCE(sum(lag), 0), max(lag)
FROM lag_partition_status GROUP BY group_id, topic;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "read model", sql: readModel },
  { version: 2, name: "metrics", sql: metrics },
  { version: 3, name: "audit log", sql: audit },
  { version: 4, name: "cluster counts", sql: clusterCounts },
  { version: 5, name: "decode truth", sql: decodeTruth },
  { version: 6, name: "lag history", sql: lagHistory },
  { version: 7, name: "change events", sql: changeEvents },
  { version: 8, name: "lag history compact", sql: lagHistoryCompact, data: compactLagHistory },
  { version: 9, name: "lag topic sums", sql: lagTopicStatus },
];
