/**
 * A group's sums added up in SQL from its stored verdicts (src/store/lag-group-sums.ts) against the
 * domain's own fold (summarizeGroup) over the same verdicts: random groups with ties in lag and
 * urgency, unknown lags, missing rates and histories, on a real SQLite database.
 */
import { describe, expect, it } from "vitest";
import {
  groupVerdictOf,
  summarizeGroup,
  type JudgedPartition,
  type LagSettings,
  type PartitionStatus,
} from "../../src/kafscale/lag-status.js";
import { openDatabase } from "../../src/store/database.js";
import { createStoredGroupSums } from "../../src/store/lag-group-sums.js";

const SETTINGS: LagSettings = { intervalMs: 5_000, windowPoints: 30 };
const NOW = Date.parse("2026-11-26T12:00:00Z");
const STATUSES: PartitionStatus[] = ["OK", "WARN", "STALL", "STOP", "REWIND", "UNKNOWN"];

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function randomGroup(seed: number, size: number): JudgedPartition[] {
  const r = rng(seed);
  const maybe = <T>(value: T): T | null => (r(4) === 0 ? null : value);
  const partitions: JudgedPartition[] = [];
  for (let i = 0; i < size; i++) {
    const lag = maybe(r(3) === 0 ? 0 : r(5) * 100); // few distinct values: ties
    const rated = r(3) !== 0;
    partitions.push({
      topic: `topic-${r(4)}`,
      partition: i,
      status: STATUSES[r(STATUSES.length)] as PartitionStatus,
      lag,
      behindSince: maybe(NOW - r(10) * 1_000),
      consumedRate: rated ? r(1000) / 7 : null,
      producedRate: rated || r(2) === 0 ? r(1000) / 3 : null,
      since: maybe(NOW - r(100) * 1_000),
      detail: maybe(r(50)),
      historyStart: maybe(NOW - r(300) * 1_000),
      points: r(60),
    });
  }
  // The stored order: the primary key (topic, partition).
  return partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

function storeGroup(db: ReturnType<typeof openDatabase>, group: string, partitions: readonly JudgedPartition[]): void {
  const put = db.prepare(
    `INSERT INTO lag_partition_status (group_id, topic, partition, status, lag, behind_since, consumed_rate,
       produced_rate, since, detail, recheck_at, history_start, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
  );
  for (const p of partitions) {
    put.run(group, p.topic, p.partition, p.status, p.lag, p.behindSince, p.consumedRate, p.producedRate, p.since, p.detail, p.historyStart, p.points);
  }
}

describe("a group's sums from its stored verdicts", () => {
  it("give the verdict summarizeGroup gives over the same partitions (ties to the first partition in key order)", () => {
    const db = openDatabase(":memory:");
    const stored = createStoredGroupSums(db);
    for (let seed = 1; seed <= 60; seed++) {
      const group = `g${seed}`;
      const partitions = randomGroup(seed, 1 + (seed % 7) * 13);
      storeGroup(db, group, partitions);
      // A neighbour in the table, which must not count.
      storeGroup(db, `${group}-other`, randomGroup(seed + 1000, 5));
      const expected = summarizeGroup(partitions, SETTINGS, NOW);
      const sums = stored.sums(group);
      expect(sums, group).not.toBeNull();
      const actual = groupVerdictOf(sums!, SETTINGS, NOW);
      // Rates: SQLite's compensated sum may differ from a plain one in the last bits.
      for (const rate of ["consumedRate", "producedRate", "catchUpSeconds"] as const) {
        if (expected[rate] === null) expect(actual[rate], `${group} ${rate}`).toBeNull();
        else expect(actual[rate], `${group} ${rate}`).toBeCloseTo(expected[rate], 6);
      }
      const exact = (v: typeof expected) => ({ ...v, consumedRate: 0, producedRate: 0, catchUpSeconds: 0 });
      expect(exact(actual), group).toEqual(exact(expected));
    }
    db.close();
  });

  it("are none for a group without verdicts, and rewrite its topic sums from the verdicts", () => {
    const db = openDatabase(":memory:");
    const stored = createStoredGroupSums(db);
    expect(stored.sums("nobody")).toBeNull();
    const partitions = randomGroup(7, 40);
    storeGroup(db, "g", partitions);
    db.prepare("INSERT INTO lag_topic_status VALUES ('g', 'stale-topic', 1, 1, 5, 5)").run();
    stored.rewriteTopicSums("g");
    const expected = new Map<string, { partitions: number; known: number; total_lag: number; max_lag: number | null }>();
    for (const p of partitions) {
      const t = expected.get(p.topic) ?? { partitions: 0, known: 0, total_lag: 0, max_lag: null };
      t.partitions++;
      if (p.lag !== null) {
        t.known++;
        t.total_lag += p.lag;
        t.max_lag = Math.max(t.max_lag ?? p.lag, p.lag);
      }
      expected.set(p.topic, t);
    }
    const rows = db.prepare("SELECT topic, partitions, known, total_lag, max_lag FROM lag_topic_status WHERE group_id = 'g' ORDER BY topic").all();
    expect(rows).toEqual([...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([topic, t]) => ({ topic, ...t })));
    db.close();
  });

  it("rewrite only the named topics' sums when told which topics were judged again", () => {
    const db = openDatabase(":memory:");
    const stored = createStoredGroupSums(db);
    storeGroup(db, "g", randomGroup(11, 40));
    stored.rewriteTopicSums("g");
    const sums = () => db.prepare("SELECT topic, partitions, total_lag FROM lag_topic_status WHERE group_id = 'g' ORDER BY topic").all() as { topic: string; partitions: number; total_lag: number }[];
    const before = sums();
    const [first, second] = before.map((r) => r.topic);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    db.prepare("UPDATE lag_partition_status SET lag = 1000000 WHERE group_id = 'g' AND topic IN (?, ?) AND lag IS NOT NULL").run(first, second);
    stored.rewriteTopicSums("g", [first!]);
    const after = sums();
    // The named topic is summed again; the other changed one keeps its old sums (it was not named).
    expect(after.find((r) => r.topic === first)!.total_lag).toBeGreaterThanOrEqual(1_000_000);
    expect(after.find((r) => r.topic === second)).toEqual(before.find((r) => r.topic === second));
    expect(after.filter((r) => r.topic !== first)).toEqual(before.filter((r) => r.topic !== first));
    db.close();
  });
});
