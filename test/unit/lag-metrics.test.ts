/**
 * /metrics/lag's text (src/http/lag-metrics.ts) from a real store: kafka-lag-exporter's names and
 * labels, values equal to the lag rule, no series for a never-committed partition, offset but no lag
 * without an end offset, the group status as a number, the allow/deny filters, partition series
 * only when asked, escaped label values, and text Prometheus parses (the service's own parser).
 */
import type { AddressInfo } from "node:net";
import express, { type Response } from "express";
import { describe, expect, it } from "vitest";
import { buildClusterKvs, type ClusterSpec } from "../../src/demo/cluster-spec.js";
import type { LagMetricsConfig } from "../../src/config.js";
import { GROUP_STATUS_VALUE, lagMetricsHandler, renderLagMetrics } from "../../src/http/lag-metrics.js";
import { createStore, type Store } from "../../src/store/index.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";
import type { Sample } from "../../src/kafscale/samples.js";
import { useCleanups } from "../support/harness.js";
import { applyToStore, commitWrite, endWrite } from "../support/lag-script.js";
import { keys } from "../../src/kafscale/keys.js";
import { Database } from "../../src/store/sqlite-driver.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const QUOTED = 'odd"group\\name';

const spec: ClusterSpec = {
  clusterName: "prod-eu",
  clusterId: "c-1",
  brokers: 1,
  topics: [
    { name: "orders", partitions: 3, endOffsets: [100, 200, 300] },
    // No end offset key at all for partition 1 of "raw".
    { name: "raw", partitions: 2, endOffsets: [50] },
  ],
  groups: [
    // Partition 2 of orders never committed.
    { id: "billing", offsets: { orders: [90, 150, null] } },
    { id: "archiver", offsets: { raw: [50, 7] } },
    { id: QUOTED, offsets: { orders: [100, 200, 300] } },
    { id: "tmp-probe-1", offsets: { orders: [0, 0, 0] } },
  ],
  at: new Date(T0).toISOString(),
};

const { defer, tempDbPath, closeAfterTest } = useCleanups();

/** Makes the store hold exactly `cluster`'s keys at `revision` (a resync: keys not in it are deleted). */
async function resync(store: Store, cluster: ClusterSpec, revision: number, now: number): Promise<void> {
  const load = store.writer.beginResync();
  await load.addPage(
    buildClusterKvs(cluster)
      .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
      .map((kv) => ({ type: "put", key: kv.key, value: kv.value, modRevision: revision, createRevision: revision, version: 1, lease: "0" })),
    revision,
  );
  await load.commit(revision, now);
}

async function loaded(path = ":memory:", clock: () => number = () => T0): Promise<Store> {
  const store = createStore(path, { now: clock });
  closeAfterTest(store);
  await resync(store, spec, 1, T0);
  store.syncState.markSynced(T0);
  await store.lag.evaluator.run();
  return store;
}

function scrape(store: Store, config: Partial<LagMetricsConfig> = {}, now = T0 + 4000): { text: string; samples: Sample[] } {
  const chunks: Buffer[] = [];
  renderLagMetrics(store.lag.series, { partitions: false, auth: "none", ...config }, now, (c) => chunks.push(c));
  const text = Buffer.concat(chunks).toString("utf8");
  const parsed = parsePrometheusText(text);
  expect(parsed.errors).toEqual([]);
  expect(parsed.documentError).toBeNull();
  return { text, samples: parsed.samples };
}

const value = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
const named = (samples: Sample[], name: string): Sample[] => samples.filter((s) => s.name === name);

describe("/metrics/lag text", () => {
  it("has kafka-lag-exporter's group series with the lag rule's values, the status and the snapshot's age", async () => {
    const { samples } = scrape(await loaded());
    const c = { cluster_name: "prod-eu" };
    expect(value(samples, "kafka_consumergroup_group_sum_lag", { ...c, group: "billing" })).toBe(10 + 50);
    expect(value(samples, "kafka_consumergroup_group_max_lag", { ...c, group: "billing" })).toBe(50);
    expect(value(samples, "kafka_consumergroup_group_topic_sum_lag", { ...c, group: "billing", topic: "orders" })).toBe(60);
    // raw/1 has no end offset: no lag known there, so only raw/0 counts.
    expect(value(samples, "kafka_consumergroup_group_sum_lag", { ...c, group: "archiver" })).toBe(0);
    expect(value(samples, "kafka_consumergroup_group_sum_lag", { ...c, group: "tmp-probe-1" })).toBe(600);
    expect(value(samples, "kafscale_mcp_lag_snapshot_age_seconds", c)).toBe(4);
    for (const s of named(samples, "kafscale_consumergroup_group_status")) {
      expect(Object.values(GROUP_STATUS_VALUE)).toContain(s.value);
    }
    expect(named(samples, "kafscale_consumergroup_group_status").map((s) => s.labels.group).sort()).toEqual(
      ["archiver", "billing", QUOTED, "tmp-probe-1"].sort(),
    );
    // Caught up: time lag 0 (a group with lag and no judged start of it has none).
    expect(value(samples, "kafka_consumergroup_group_max_lag_seconds", { ...c, group: QUOTED })).toBe(0);
    // Group level only by default.
    expect(named(samples, "kafka_consumergroup_group_lag")).toEqual([]);
    expect(named(samples, "kafka_partition_latest_offset")).toEqual([]);
  });

  it("escapes label values and uses the cluster id when the snapshot has no name", async () => {
    const store = await loaded();
    const { text } = scrape(store);
    expect(text).toContain('group="odd\\"group\\\\name"');
    const unnamed = createStore(":memory:");
    defer(() => unnamed.close());
    const load = unnamed.writer.beginResync();
    await load.addPage(
      buildClusterKvs({ ...spec, clusterName: "" }).map((kv) => ({ type: "put", key: kv.key, value: kv.value, modRevision: 1, createRevision: 1, version: 1, lease: "0" })),
      1,
    );
    await load.commit(1, T0);
    expect(scrape(unnamed).samples.every((s) => s.labels.cluster_name === "c-1")).toBe(true);
  });

  it("adds partition series when asked, never for a partition nothing was committed on", async () => {
    const { samples } = scrape(await loaded(), { partitions: true });
    const p = (group: string, topic: string, partition: number) => ({ cluster_name: "prod-eu", group, topic, partition: String(partition) });
    expect(value(samples, "kafka_consumergroup_group_offset", p("billing", "orders", 0))).toBe(90);
    expect(value(samples, "kafka_consumergroup_group_lag", p("billing", "orders", 1))).toBe(50);
    expect(value(samples, "kafka_consumergroup_group_offset", p("billing", "orders", 2))).toBeUndefined();
    expect(named(samples, "kafka_consumergroup_group_lag").filter((s) => s.labels.group === "billing")).toHaveLength(2);
    expect(named(samples, "kafka_consumergroup_group_lag_seconds").filter((s) => s.labels.group === "billing" && s.labels.partition === "2")).toEqual([]);
    // No end offset: the committed offset is known, the lag is not.
    expect(value(samples, "kafka_consumergroup_group_offset", p("archiver", "raw", 1))).toBe(7);
    expect(value(samples, "kafka_consumergroup_group_lag", p("archiver", "raw", 1))).toBeUndefined();
    expect(value(samples, "kafka_consumergroup_group_lag_seconds", p(QUOTED, "orders", 0))).toBe(0);
    expect(value(samples, "kafka_partition_latest_offset", { cluster_name: "prod-eu", topic: "orders", partition: "2" })).toBe(300);
    expect(samples.some((s) => Number.isNaN(s.value))).toBe(false);
  });

  it("keeps only allowed groups, and deny wins", async () => {
    const store = await loaded();
    const groupsOf = (samples: Sample[]) => [...new Set(named(samples, "kafka_consumergroup_group_sum_lag").map((s) => s.labels.group))].sort();
    expect(groupsOf(scrape(store, { groupDeny: /^(?:tmp-.*)$/u }).samples)).toEqual(["archiver", "billing", QUOTED].sort());
    expect(groupsOf(scrape(store, { groupAllow: /^(?:b.*|tmp-.*)$/u, groupDeny: /^(?:tmp-.*)$/u }).samples)).toEqual(["billing"]);
    // The partition series follow the same filter, latest offsets only for the topics of kept groups.
    const { samples } = scrape(store, { partitions: true, groupAllow: /^(?:archiver)$/u });
    expect([...new Set(named(samples, "kafka_partition_latest_offset").map((s) => s.labels.topic))]).toEqual(["raw"]);
    expect(new Set(named(samples, "kafka_consumergroup_group_offset").map((s) => s.labels.group))).toEqual(new Set(["archiver"]));
  });

  it("keeps the topic sums equal to the partition sums as commits, end offsets, groups and topics change", async () => {
    const path = tempDbPath();
    let now = T0;
    const store = await loaded(path, () => now);
    const reader = new Database(path, { readonly: true });
    defer(() => {
      reader.close();
    });
    let revision = 1;
    const write = (...writes: Parameters<typeof applyToStore>[1]): void => {
      now += 5000;
      applyToStore(store, writes, ++revision, now);
    };
    /** The evaluator's table against its verdicts, and the topic series against the partition series. */
    const agree = async (): Promise<{ topics: Map<string, number>; rows: unknown[] }> => {
      await store.lag.evaluator.run();
      const rows = reader.prepare("SELECT * FROM lag_topic_status ORDER BY group_id, topic").all();
      expect(rows).toEqual(
        reader
          .prepare(
            `SELECT group_id, topic, count(*) AS partitions, count(lag) AS known, COALESCE(sum(lag), 0) AS total_lag, max(lag) AS max_lag
             FROM lag_partition_status GROUP BY group_id, topic ORDER BY group_id, topic`,
          )
          .all(),
      );
      const { samples } = scrape(store, { partitions: true }, now);
      const key = (s: Sample): string => JSON.stringify([s.labels.group, s.labels.topic]);
      const partitionSums = new Map<string, number>();
      for (const s of named(samples, "kafka_consumergroup_group_lag")) partitionSums.set(key(s), (partitionSums.get(key(s)) ?? 0) + s.value);
      const topics = new Map(named(samples, "kafka_consumergroup_group_topic_sum_lag").map((s) => [key(s), s.value]));
      for (const [k, sum] of partitionSums) expect([k, topics.get(k)]).toEqual([k, sum]);
      // A topic whose only known lag is 0 for want of an end offset has no partition lag series.
      for (const [k, sum] of topics) expect([k, sum]).toEqual([k, partitionSums.get(k) ?? 0]);
      return { topics, rows };
    };
    const sum = (topics: Map<string, number>, group: string, topic: string): number | undefined => topics.get(JSON.stringify([group, topic]));

    expect(sum((await agree()).topics, "billing", "orders")).toBe(60);
    // Commits: judged partition by partition (the incremental path).
    write(commitWrite("billing", "orders", 0, 100, now), commitWrite("tmp-probe-1", "orders", 1, 150, now));
    let seen = await agree();
    expect(sum(seen.topics, "billing", "orders")).toBe(50);
    expect(sum(seen.topics, "tmp-probe-1", "orders")).toBe(100 + 50 + 300);
    // End offsets move under every group committed there.
    write(endWrite("orders", 2, 400), endWrite("raw", 0, 80));
    seen = await agree();
    expect(sum(seen.topics, "tmp-probe-1", "orders")).toBe(100 + 50 + 400);
    expect(sum(seen.topics, "archiver", "raw")).toBe(30);
    // A group deleted: its offsets go, and its sums with them.
    write(...[0, 1, 2].map((p) => ({ kind: "delete" as const, key: keys.committedOffset("tmp-probe-1", "orders", p) })));
    seen = await agree();
    expect(seen.rows.filter((r) => (r as { group_id: string }).group_id === "tmp-probe-1")).toEqual([]);
    // A topic deleted (a resync finds it gone from the snapshot; the group's commits on it stay): no
    // lag known there.
    now += 5000;
    await resync(store, { ...spec, topics: spec.topics.filter((t) => t.name !== "raw"), groups: spec.groups.filter((g) => g.id !== "tmp-probe-1") }, ++revision, now);
    seen = await agree();
    expect(sum(seen.topics, "archiver", "raw")).toBeUndefined();
    expect(seen.rows).toContainEqual({ group_id: "archiver", topic: "raw", partitions: 2, known: 0, total_lag: 0, max_lag: null });
    // The resync also put back the spec's commits and end offsets: billing is 10 + 50 behind again.
    expect(sum(seen.topics, "billing", "orders")).toBe(60);
  });
});

describe("/metrics/lag over HTTP", () => {
  it("streams a large partition-level scrape in bursts, yielding to the event loop, and it arrives whole", { timeout: 60_000 }, async () => {
    // 3 groups on one topic of 4,000 partitions: 12k committed partitions, about 3.5 MB of text,
    // so more than the handler writes in one turn (16 chunks of 64 KiB).
    const partitions = 4000;
    const big: ClusterSpec = {
      ...spec,
      topics: [{ name: "firehose", partitions, endOffsets: Array.from({ length: partitions }, (_, p) => 1000 + p) }],
      groups: ["a", "b", "c"].map((id) => ({ id, offsets: { firehose: Array.from({ length: partitions }, (_, p) => 900 + p) } })),
    };
    const store = createStore(":memory:", { now: () => T0 });
    closeAfterTest(store);
    await resync(store, big, 1, T0);
    store.syncState.markSynced(T0);
    await store.lag.evaluator.run();
    const config: LagMetricsConfig = { partitions: true, auth: "none" };

    // Before the old handler's fix it wrote the whole body and ended the response in one go: the
    // event loop was blocked for all of it (at size L 2.75 s of CPU, 14 s under load), long enough for
    // idle keep-alive sockets to time out with a request waiting on them (ECONNRESET).
    const endedBeforeNextTurn: boolean[] = [];
    const errors: Error[] = [];
    const app = express();
    app.get("/metrics/lag", (_req, res: Response, next) => {
      setImmediate(() => endedBeforeNextTurn.push(res.writableEnded));
      next();
    }, lagMetricsHandler(store.lag.series, config, () => T0 + 4000, (err) => errors.push(err)));
    const server = app.listen(0, "127.0.0.1");
    defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => server.once("listening", resolve));
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics/lag`);
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());

    expect(endedBeforeNextTurn).toEqual([false]);
    expect(errors).toEqual([]);
    const expected: Buffer[] = [];
    renderLagMetrics(store.lag.series, config, T0 + 4000, (c) => expected.push(c));
    expect(body.length).toBeGreaterThan(16 * 64 * 1024);
    expect(body.equals(Buffer.concat(expected))).toBe(true);
    const parsed = parsePrometheusText(body.toString("utf8"));
    expect(parsed.errors).toEqual([]);
    expect(named(parsed.samples, "kafka_consumergroup_group_offset")).toHaveLength(3 * partitions);
    expect(named(parsed.samples, "kafka_partition_latest_offset")).toHaveLength(partitions);
  });
});
