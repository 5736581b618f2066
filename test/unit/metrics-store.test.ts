/** The metrics tables (migration 2) and createMetricsStore, on a real SQLite file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/store/sqlite-driver.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStore, type ScrapeTarget, type Store } from "../../src/store/index.js";
import { aggregateOf, deriveBrokerView, deriveOperatorView } from "../../src/kafscale/broker-view.js";
import type { Sample } from "../../src/sync/metrics/prom-text.js";

const broker0: ScrapeTarget = { target: "broker:0", url: "http://b0:9093/metrics", kind: "broker", nodeId: 0 };
const broker1: ScrapeTarget = { target: "broker:1", url: "http://b1:9093/metrics", kind: "broker", nodeId: 1 };
const operator: ScrapeTarget = { target: "operator", url: "http://op:8080/metrics", kind: "operator", nodeId: null };

const s = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({ name, labels, value });
const healthy = (rps: number): Sample[] => [
  s("kafscale_s3_health_state", 1, { state: "healthy" }),
  s("kafscale_s3_health_state", 0, { state: "degraded" }),
  s("kafscale_produce_rps", rps),
  s("go_goroutines", 12),
];

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "metrics-store-"));
  store = createStore(join(dir, "snapshot.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function record(target: ScrapeTarget, at: number, samples: Sample[]): number {
  const view = target.kind === "broker" ? deriveBrokerView(samples) : deriveOperatorView(samples);
  return store.metrics.recordScrape({ target, at, durationMs: 12.4, samples, view });
}

describe("metrics store", () => {
  it("is empty until a target exists", () => {
    expect(store.metrics.latest()).toBeNull();
  });

  it("aggregates the last good view of each broker and reports each target's state", () => {
    record(broker0, 1_000, healthy(10));
    record(broker1, 1_000, healthy(20));
    const unavailable = [s("kafscale_s3_health_state", 1, { state: "unavailable" }), s("kafscale_produce_rps", 30)];
    record(broker1, 2_000, unavailable);
    const error = "metrics request failed: 500";
    store.metrics.recordFailure({ target: broker0, at: 2_000, durationMs: 5_000, error });
    record(operator, 2_500, [s("kafscale_operator_clusters", 1)]);

    const snap = store.metrics.latest();
    expect(snap?.observedAt).toBe(2_000);
    expect(snap?.oldestObservedAt).toBe(1_000);
    expect(aggregateOf(snap)?.s3State).toBe("unavailable");
    expect(aggregateOf(snap)?.produceRps).toBe(40);
    expect(snap?.brokers.map((b) => [b.target, b.scrapedAt, b.state.consecutiveFailures])).toEqual([
      ["broker:0", 1_000, 1],
      ["broker:1", 2_000, 0],
    ]);
    expect(snap?.brokers[0]?.state).toEqual({
      lastAttemptAt: 2_000,
      lastSuccessAt: 1_000,
      lastError: "metrics request failed: 500",
      lastErrorAt: 2_000,
      consecutiveFailures: 1,
      lastDurationMs: 5_000,
    });
    expect(snap?.operator).toMatchObject({ target: "operator", scrapedAt: 2_500, view: { clusters: 1 } });
    expect(snap?.targets.map((t) => t.target)).toEqual(["broker:0", "broker:1", "operator"]);
  });

  it("removes targets that are no longer current, with their views", () => {
    record(broker0, 1_000, healthy(10));
    record(broker1, 1_000, healthy(20));
    store.metrics.syncTargets([broker1]);
    const snap = store.metrics.latest();
    expect(snap?.brokers.map((b) => b.target)).toEqual(["broker:1"]);
    expect(aggregateOf(snap)?.produceRps).toBe(20);
    store.metrics.syncTargets([]);
    expect(store.metrics.latest()).toBeNull();
  });

  it("stores kafscale_* samples with canonical labels, NaN as NULL, and serves v_latest_metrics", () => {
    record(broker0, 1_000, [...healthy(10), s("kafscale_admin_requests_total", 3, { z: "1", api: "ListGroups" })]);
    record(broker0, 2_000, [...healthy(11), s("kafscale_s3_latency_ms_avg", Number.NaN)]);
    store.metrics.recordFailure({ target: broker0, at: 3_000, durationMs: 1, error: "boom" });
    record(broker1, 1_500, healthy(20));

    const db = new Database(store.path, { readonly: true });
    try {
      const labels = db
        .prepare("SELECT labels FROM metric_samples WHERE name = 'kafscale_admin_requests_total'")
        .pluck()
        .get();
      expect(labels).toBe('{"api":"ListGroups","z":"1"}');
      expect(db.prepare("SELECT count(*) FROM metric_samples WHERE name LIKE 'go_%'").pluck().get()).toBe(0);
      expect(db.prepare("SELECT ok, sample_count, error FROM scrapes ORDER BY id").raw().all()).toEqual([
        [1, 4, null],
        [1, 4, null],
        [0, 0, "boom"],
        [1, 3, null],
      ]);

      // The latest good scrape per target: the admin series, gone from the second scrape, is gone here too.
      const latest = db
        .prepare("SELECT target, name, labels, value, scraped_at FROM v_latest_metrics ORDER BY target, name, labels")
        .raw()
        .all();
      expect(latest).toEqual([
        ["broker:0", "kafscale_produce_rps", "{}", 11, 2_000],
        ["broker:0", "kafscale_s3_health_state", '{"state":"degraded"}', 0, 2_000],
        ["broker:0", "kafscale_s3_health_state", '{"state":"healthy"}', 1, 2_000],
        ["broker:0", "kafscale_s3_latency_ms_avg", "{}", null, 2_000],
        ["broker:1", "kafscale_produce_rps", "{}", 20, 1_500],
        ["broker:1", "kafscale_s3_health_state", '{"state":"degraded"}', 0, 1_500],
        ["broker:1", "kafscale_s3_health_state", '{"state":"healthy"}', 1, 1_500],
      ]);
    } finally {
      db.close();
    }
  });

  it("prunes history older than the cut-off and keeps views and target states", () => {
    record(broker0, 1_000, healthy(10));
    record(broker0, 2_000, healthy(11));
    store.metrics.recordFailure({ target: broker0, at: 2_500, durationMs: 1, error: "boom" });
    record(broker0, 3_000, healthy(12));

    expect(store.metrics.prune(2_600)).toEqual({ samples: 6, scrapes: 3 });
    expect(store.metrics.sampleHistory("kafscale_produce_rps", 0)).toEqual([
      { target: "broker:0", labels: {}, value: 12, scrapedAt: 3_000 },
    ]);
    expect(store.metrics.prune(10_000)).toEqual({ samples: 3, scrapes: 1 });
    const snap = store.metrics.latest();
    expect(snap?.brokers[0]).toMatchObject({ scrapedAt: 3_000, state: { lastError: "boom", consecutiveFailures: 0 } });
    expect(aggregateOf(snap)?.produceRps).toBe(12);
  });
});
