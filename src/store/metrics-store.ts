/**
 * The metrics side of the snapshot: scrape results written by the poller (src/sync/metrics-poller.ts)
 * and the read behind `cluster_metrics` / `cluster_status`. Tables: migration 2 in migrations.ts.
 *
 * Writes are one transaction per scrape, so a reader never sees a scrape's samples without its target
 * state. Failures never touch the last good view: an answer keeps the last good values and their age.
 */
import type { Db } from "./database.js";
import type { BrokerView, OperatorView } from "../kafscale/broker-view.js";
import type { Sample } from "../kafscale/samples.js";

/** What is scraped: "broker:<node_id>", "broker:url" or "operator". */
export interface ScrapeTarget {
  target: string;
  url: string;
  kind: "broker" | "operator";
  /** The broker's node id in per-broker mode; null for the single URL and the operator. */
  nodeId: number | null;
}

/** Health of one target's scraping. Times are Unix milliseconds; null when it never happened. */
export interface ScrapeState {
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  /** The most recent error, kept after a recovery: it is current only when lastErrorAt > lastSuccessAt. */
  lastError: string | null;
  lastErrorAt: number | null;
  /** Failures since the last success; 0 when the latest attempt succeeded. */
  consecutiveFailures: number;
  lastDurationMs: number | null;
}

/** A target with its scrape state. */
export interface ScrapeTargetState extends ScrapeTarget {
  state: ScrapeState;
}

/** One broker target: its last good view (null if it never answered) and how scraping it goes. */
export interface BrokerMetrics {
  target: string;
  nodeId: number | null;
  url: string;
  /** When the last good view was scraped; null with `view`. */
  scrapedAt: number | null;
  view: BrokerView | null;
  state: ScrapeState;
}

/** The operator target, when configured. */
export interface OperatorMetrics {
  target: string;
  url: string;
  scrapedAt: number | null;
  view: OperatorView | null;
  state: ScrapeState;
}

/**
 * Everything `cluster_metrics` and `cluster_status` need, read in one transaction.
 *
 * Freshness: `observedAt` is the newest good broker scrape, `oldestObservedAt` the oldest view that
 * went into `aggregate` (they differ when some broker has been failing). Tools mark the answer stale
 * when `now - observedAt > metricsStaleAfterMs(config)` (src/sync/metrics-poller.ts); a broker whose
 * `state.consecutiveFailures > 0` is contributing old values.
 */
export interface ClusterMetricsSnapshot {
  /** Unix ms of the newest good broker scrape; null when no broker target has answered yet. */
  observedAt: number | null;
  /** Unix ms of the oldest good broker view (what `aggregateOf` combines); null when there is none. */
  oldestObservedAt: number | null;
  /** Every current broker target, by node id (the single-URL target has node id null). */
  brokers: BrokerMetrics[];
  /** Null when no operator URL is configured. */
  operator: OperatorMetrics | null;
  /** Every current target with its scrape state, brokers first. */
  targets: ScrapeTargetState[];
}

/** A good scrape: its samples (all of them; only kafscale_* are stored) and the view derived from them. */
export interface ScrapeSuccess {
  target: ScrapeTarget;
  /** When the request started (Unix ms); the samples' timestamp. */
  at: number;
  durationMs: number;
  samples: readonly Sample[];
  /** A BrokerView for kind "broker", an OperatorView for kind "operator". */
  view: BrokerView | OperatorView;
}

/** A failed scrape: HTTP error, network error, timeout, oversized or unparsable body. */
export interface ScrapeFailure {
  target: ScrapeTarget;
  at: number;
  durationMs: number;
  error: string;
}

/** One stored sample, for history queries. */
export interface SamplePoint {
  target: string;
  labels: Record<string, string>;
  /** Null stands for NaN. */
  value: number | null;
  scrapedAt: number;
}

export interface MetricsStore {
  /**
   * Makes `targets` the current set: adds or updates them and removes every other target with its
   * last view (a broker that left the snapshot, a URL no longer configured). Samples age out by `prune`.
   */
  syncTargets(targets: readonly ScrapeTarget[]): void;
  /**
   * Records a good scrape in one transaction: scrape row, kafscale_* samples, target state and last good
   * view. Returns the scrape id.
   */
  recordScrape(scrape: ScrapeSuccess): number;
  /** Records a failed scrape: a scrape row and the target's error state. The last good view is kept. */
  recordFailure(failure: ScrapeFailure): void;
  /** Deletes samples and scrape rows older than `olderThanMs` (Unix ms). Last good views and target states stay. */
  prune(olderThanMs: number): { samples: number; scrapes: number };
  /** The snapshot for the metrics tools; null when no target was ever configured or scraped. */
  latest(): ClusterMetricsSnapshot | null;
  /** `latest().observedAt` alone, in one indexed query: the freshness check on every tool call. */
  observedAt(): number | null;
  /** Samples of metric `name` scraped at or after `sinceMs`, oldest first, at most `limit` (default 10,000). */
  sampleHistory(name: string, sinceMs: number, limit?: number): SamplePoint[];
}

interface TargetRow {
  target: string;
  url: string;
  kind: "broker" | "operator";
  node_id: number | null;
  last_attempt_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  consecutive_failures: number;
  last_duration_ms: number | null;
}

interface ViewRow {
  target: string;
  scraped_at: number;
  view: string;
}

const STORED_PREFIX = "kafscale_";
const DEFAULT_HISTORY_LIMIT = 10_000;

/** Label sets as canonical JSON (keys sorted), so equal sets are equal text in SQL. */
export function canonicalLabels(labels: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) sorted[key] = labels[key] as string;
  return JSON.stringify(sorted);
}

function stateOf(r: TargetRow): ScrapeState {
  return {
    lastAttemptAt: r.last_attempt_at,
    lastSuccessAt: r.last_success_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    consecutiveFailures: r.consecutive_failures,
    lastDurationMs: r.last_duration_ms,
  };
}

/** Prepares every metrics statement once and returns the write and read functions. */
export function createMetricsStore(db: Db): MetricsStore {
  const s = {
    targetNames: db.prepare<[], { target: string }>("SELECT target FROM scrape_targets"),
    upsertTarget: db.prepare<[string, string, string, number | null]>(
      `INSERT INTO scrape_targets (target, url, kind, node_id) VALUES (?, ?, ?, ?)
       ON CONFLICT(target) DO UPDATE SET url = excluded.url, kind = excluded.kind, node_id = excluded.node_id`,
    ),
    deleteTarget: db.prepare<[string]>("DELETE FROM scrape_targets WHERE target = ?"),
    deleteBrokerView: db.prepare<[string]>("DELETE FROM broker_views WHERE target = ?"),
    deleteOperatorView: db.prepare<[string]>("DELETE FROM operator_view WHERE target = ?"),
    insertScrape: db.prepare<[string, number, number, number, number, string | null]>(
      `INSERT INTO scrapes (target, scraped_at, ok, duration_ms, sample_count, error) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    insertSample: db.prepare<[number | bigint, string, string, string, number | null, number]>(
      `INSERT INTO metric_samples (scrape_id, target, name, labels, value, scraped_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    success: db.prepare<{ target: string; at: number; duration: number }>(
      `UPDATE scrape_targets SET last_attempt_at = @at, last_success_at = @at, consecutive_failures = 0,
         last_duration_ms = @duration WHERE target = @target`,
    ),
    failure: db.prepare<{ target: string; at: number; duration: number; error: string }>(
      `UPDATE scrape_targets SET last_attempt_at = @at, last_error = @error, last_error_at = @at,
         consecutive_failures = consecutive_failures + 1, last_duration_ms = @duration WHERE target = @target`,
    ),
    upsertBrokerView: db.prepare<[string, number | null, number, string]>(
      `INSERT INTO broker_views (target, node_id, scraped_at, view) VALUES (?, ?, ?, ?)
       ON CONFLICT(target) DO UPDATE SET node_id = excluded.node_id, scraped_at = excluded.scraped_at,
         view = excluded.view`,
    ),
    upsertOperatorView: db.prepare<[string, number, string]>(
      `INSERT INTO operator_view (target, scraped_at, view) VALUES (?, ?, ?)
       ON CONFLICT(target) DO UPDATE SET scraped_at = excluded.scraped_at, view = excluded.view`,
    ),
    // Driven through the (target, scraped_at) index: one range scan per target instead of a full scan.
    pruneSamples: db.prepare<{ before: number }>(
      `DELETE FROM metric_samples
       WHERE target IN (SELECT DISTINCT target FROM scrapes WHERE scraped_at < @before) AND scraped_at < @before`,
    ),
    pruneScrapes: db.prepare<{ before: number }>("DELETE FROM scrapes WHERE scraped_at < @before"),
    observedAt: db.prepare<[], { at: number | null }>(
      `SELECT max(v.scraped_at) AS at FROM broker_views v JOIN scrape_targets t ON t.target = v.target
       WHERE t.kind = 'broker'`,
    ),
    targets: db.prepare<[], TargetRow>(
      `SELECT * FROM scrape_targets
       ORDER BY kind = 'operator', node_id IS NULL, node_id, target`,
    ),
    brokerViews: db.prepare<[], ViewRow>("SELECT target, scraped_at, view FROM broker_views"),
    operatorViews: db.prepare<[], ViewRow>("SELECT target, scraped_at, view FROM operator_view"),
    history: db.prepare<
      [string, number, number],
      { target: string; labels: string; value: number | null; scraped_at: number }
    >(
      `SELECT target, labels, value, scraped_at FROM metric_samples
       WHERE name = ? AND scraped_at >= ? ORDER BY scraped_at, target, labels LIMIT ?`,
    ),
  };

  const ensureTarget = (t: ScrapeTarget): void => {
    s.upsertTarget.run(t.target, t.url, t.kind, t.nodeId);
  };

  const syncTargets = db.transaction((targets: readonly ScrapeTarget[]): void => {
    const keep = new Set(targets.map((t) => t.target));
    for (const { target } of s.targetNames.all()) {
      if (keep.has(target)) continue;
      s.deleteTarget.run(target);
      s.deleteBrokerView.run(target);
      s.deleteOperatorView.run(target);
    }
    for (const t of targets) ensureTarget(t);
  });

  const recordScrape = db.transaction((scrape: ScrapeSuccess): number => {
    const { target: t, at, durationMs } = scrape;
    ensureTarget(t);
    const stored = scrape.samples.filter((x) => x.name.startsWith(STORED_PREFIX));
    const id = s.insertScrape.run(t.target, at, 1, Math.round(durationMs), stored.length, null).lastInsertRowid;
    for (const x of stored) {
      // SQLite turns NaN into NULL anyway; doing it here makes the rule explicit.
      s.insertSample.run(id, t.target, x.name, canonicalLabels(x.labels), Number.isNaN(x.value) ? null : x.value, at);
    }
    s.success.run({ target: t.target, at, duration: Math.round(durationMs) });
    const json = JSON.stringify(scrape.view);
    if (t.kind === "broker") s.upsertBrokerView.run(t.target, t.nodeId, at, json);
    else s.upsertOperatorView.run(t.target, at, json);
    return Number(id);
  });

  const recordFailure = db.transaction((f: ScrapeFailure): void => {
    ensureTarget(f.target);
    s.insertScrape.run(f.target.target, f.at, 0, Math.round(f.durationMs), 0, f.error);
    s.failure.run({ target: f.target.target, at: f.at, duration: Math.round(f.durationMs), error: f.error });
  });

  const prune = db.transaction((olderThanMs: number) => ({
    samples: s.pruneSamples.run({ before: olderThanMs }).changes,
    scrapes: s.pruneScrapes.run({ before: olderThanMs }).changes,
  }));

  const latest = db.transaction((): ClusterMetricsSnapshot | null => {
    const rows = s.targets.all();
    if (rows.length === 0) return null;
    const brokerViews = new Map(s.brokerViews.all().map((v) => [v.target, v]));
    const operatorViews = new Map(s.operatorViews.all().map((v) => [v.target, v]));

    const brokers: BrokerMetrics[] = [];
    let operator: OperatorMetrics | null = null;
    for (const r of rows) {
      if (r.kind === "broker") {
        const v = brokerViews.get(r.target);
        brokers.push({
          target: r.target,
          nodeId: r.node_id,
          url: r.url,
          scrapedAt: v?.scraped_at ?? null,
          view: v ? (JSON.parse(v.view) as BrokerView) : null,
          state: stateOf(r),
        });
      } else if (operator === null) {
        const v = operatorViews.get(r.target);
        operator = {
          target: r.target,
          url: r.url,
          scrapedAt: v?.scraped_at ?? null,
          view: v ? (JSON.parse(v.view) as OperatorView) : null,
          state: stateOf(r),
        };
      }
    }

    const good = brokers.filter((b): b is BrokerMetrics & { view: BrokerView; scrapedAt: number } => b.view !== null);
    const times = good.map((b) => b.scrapedAt);
    return {
      observedAt: times.length > 0 ? Math.max(...times) : null,
      oldestObservedAt: times.length > 0 ? Math.min(...times) : null,
      brokers,
      operator,
      targets: rows.map((r) => ({
        target: r.target,
        url: r.url,
        kind: r.kind,
        nodeId: r.node_id,
        state: stateOf(r),
      })),
    };
  });

  const sampleHistory = (name: string, sinceMs: number, limit = DEFAULT_HISTORY_LIMIT): SamplePoint[] =>
    s.history.all(name, sinceMs, limit).map((r) => ({
      target: r.target,
      labels: JSON.parse(r.labels) as Record<string, string>,
      value: r.value,
      scrapedAt: r.scraped_at,
    }));

  const observedAt = (): number | null => s.observedAt.get()?.at ?? null;

  return { syncTargets, recordScrape, recordFailure, prune, latest, observedAt, sampleHistory };
}
