/**
 * The reproducible benchmark specs: cluster shape per size (issue #6) and the workload run against
 * it. Together with the seed, these numbers are the whole input of a run — the generator derives
 * every key and value from them, and the result JSON records them next to a digest of the keys.
 */
export type SizeName = "S" | "M" | "L";

export interface ClusterShape {
  seed: number;
  brokers: number;
  /** Topics, including the dedicated `firehose` topic. */
  topics: number;
  /** Partitions over all topics. */
  partitions: number;
  /** Consumer groups, including the big `firehose-consumers` group. */
  groups: number;
  /** Committed offsets to aim for over all groups (the result states the exact count). */
  committedOffsets: number;
  /** Partitions of `firehose`, all committed by `firehose-consumers` (the fetch_offsets comparison). */
  firehosePartitions: number;
  /** Share of partitions holding a produce lease (only partitions being produced to have one). */
  partitionLeaseShare: number;
  /** Share of topics whose partitions have PartitionState keys (written by CreatePartitions). */
  partitionStateTopicShare: number;
  /** Share of groups whose metadata key was deleted (emptied groups: offsets only, contract §4). */
  emptiedGroupShare: number;
}

export interface Workload {
  /**
   * Untimed round-robin calls over every tool before the matrix: the first calls after a cold sync
   * meet its garbage (a major GC) and cold caches; the matrix measures the steady state.
   */
  settleMs: number;
  /** Concurrent callers (each with its own MCP session) for the latency matrix. */
  concurrency: number[];
  /** Time budget per (tool × concurrency) cell; callers stop issuing calls once it is spent. */
  budgetMs: number;
  /** At least this many calls per cell (spread over the callers), even past the budget. */
  minCallsPerCell: number;
  /** Untimed calls per caller before each cell (JIT, SQLite page cache, etcd caches). */
  warmupCalls: number;
  /** Steady etcd write rates for the freshness phase, writes per second. */
  freshnessRates: number[];
  /** Puts at each rate before its measured window (a freshly forked writer is still compiling). */
  freshnessWarmupMs: number;
  freshnessDurationMs: number;
  /** Puts sampled and probed per second (the rest is background load). */
  freshnessSamplesPerSecond: number;
}

export const SHAPES: Record<SizeName, ClusterShape> = {
  S: {
    seed: 0x5eed_0001,
    brokers: 3,
    topics: 100,
    partitions: 1_000,
    groups: 20,
    committedOffsets: 2_000,
    firehosePartitions: 250,
    partitionLeaseShare: 0.05,
    partitionStateTopicShare: 0.05,
    emptiedGroupShare: 0.1,
  },
  M: {
    seed: 0x5eed_0002,
    brokers: 3,
    topics: 1_000,
    partitions: 10_000,
    groups: 200,
    committedOffsets: 20_000,
    firehosePartitions: 1_000,
    partitionLeaseShare: 0.05,
    partitionStateTopicShare: 0.05,
    emptiedGroupShare: 0.1,
  },
  L: {
    seed: 0x5eed_0003,
    brokers: 3,
    topics: 10_000,
    partitions: 100_000,
    groups: 2_000,
    committedOffsets: 200_000,
    firehosePartitions: 1_000,
    partitionLeaseShare: 0.05,
    partitionStateTopicShare: 0.05,
    emptiedGroupShare: 0.1,
  },
};

const FULL: Workload = {
  settleMs: 20_000,
  concurrency: [1, 8, 32],
  budgetMs: 2_000,
  minCallsPerCell: 20,
  warmupCalls: 3,
  freshnessRates: [500, 2_000],
  freshnessWarmupMs: 3_000,
  freshnessDurationMs: 10_000,
  freshnessSamplesPerSecond: 40,
};

export const WORKLOADS: Record<SizeName, Workload> = {
  S: { ...FULL, budgetMs: 1_000, freshnessDurationMs: 5_000 },
  M: FULL,
  L: { ...FULL, budgetMs: 3_000 },
};

/** The `--quick` workload: proves the harness works end to end (the test suite's smoke run), not timings. */
export const QUICK: Workload = {
  settleMs: 0,
  concurrency: [1],
  budgetMs: 0,
  minCallsPerCell: 3,
  warmupCalls: 1,
  freshnessRates: [500],
  freshnessWarmupMs: 0,
  freshnessDurationMs: 1_000,
  freshnessSamplesPerSecond: 20,
};

export function isSizeName(value: string): value is SizeName {
  return value === "S" || value === "M" || value === "L";
}
