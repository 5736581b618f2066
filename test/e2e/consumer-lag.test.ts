/**
 * Consumer lag over time, end to end: a scripted producer/consumer timeline written into a real
 * etcd, watched by the real service on a test clock, judged by its evaluator, and read through the
 * MCP tool (official SDK client over HTTP), REST /api/v1/lag, fetch_offsets and describe_group.
 *
 * The window is 10 points of 5 s (50 s). Every group plays one story:
 *   steady     consumes clicks 30 s behind its producers            → OK, time lag 30 s, steady
 *   growing    consumes orders at half the produce rate             → WARN, growing, 50 vs 100 offsets/s
 *   shrinking  works off a payments backlog                         → OK, shrinking, time to catch up
 *   idle       caught up on a topic nobody writes to                → OK, and still OK an hour later
 *   stalled    commits every 5 s but never moves while jobs grows    → STALL → ERR
 *   stopped    committed once, then nothing while jobs grows        → STOP → ERR
 *   rewound    follows orders, then commits an earlier offset       → REWIND → ERR
 *   fresh      assigned mail, never committed                       → UNKNOWN (partitions and group)
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";
import type { RunningService } from "../../src/service.js";
import { testClock, type TestClock } from "../support/clock.js";
import { testEtcd, writeCluster } from "../support/fixtures.js";
import { commitWrite, endWrite, writeToEtcd, type LagWrite } from "../support/lag-script.js";
import { callTool, connectClient, startTestService } from "../support/service.js";

const STEP = 5;
const END = 60;

/** End offsets (next_offset) at t seconds. */
const clicks = (t: number) => 3000 + 100 * t;
const orders = (t: number) => 100 * t;
const payments = (t: number) => 4000 + 40 * t;
const jobs = (t: number) => 1000 + 10 * t;

describe("consumer_lag over a scripted timeline", () => {
  const etcd = testEtcd();
  let clock: TestClock;
  let service: RunningService;
  let client: Client;
  let start: number;
  const iso = (t: number) => new Date(start + t * 1000).toISOString();
  /** Times as reasons print them: to the second. */
  const isoSeconds = (t: number) => iso(t).replace(/\.\d{3}Z$/, "Z");

  /** The writes of second `t` (a multiple of STEP). */
  function writesAt(t: number): LagWrite[] {
    const at = start + t * 1000;
    const writes: LagWrite[] = [
      endWrite("clicks", 0, clicks(t)),
      endWrite("clicks", 1, clicks(t)),
      endWrite("orders", 0, orders(t)),
      endWrite("payments", 0, payments(t)),
      endWrite("jobs", 0, jobs(t)),
      commitWrite("steady", "clicks", 0, clicks(t - 30), at),
      commitWrite("steady", "clicks", 1, clicks(t - 30), at),
      commitWrite("growing", "orders", 0, 50 * t, at),
      commitWrite("shrinking", "payments", 0, 100 * t, at),
      commitWrite("stalled", "jobs", 0, 100, at),
      commitWrite("rewound", "orders", 0, t === 45 ? 500 : t > 45 ? 500 + 100 * (t - 45) : orders(t) - 100, at),
    ];
    return writes;
  }

  beforeAll(async () => {
    clock = testClock({ frozen: true });
    start = clock.now();
    const spec: ClusterSpec = {
      clusterName: "lag",
      clusterId: "lag-e2e",
      brokers: 1,
      topics: [
        { name: "clicks", partitions: 2, endOffsets: [clicks(0), clicks(0)] },
        { name: "orders", partitions: 1, endOffsets: [0] },
        { name: "payments", partitions: 1, endOffsets: [payments(0)] },
        { name: "audit", partitions: 1, endOffsets: [500] },
        { name: "jobs", partitions: 1, endOffsets: [jobs(0)] },
        { name: "mail", partitions: 2, endOffsets: [100, 100] },
      ],
      groups: [
        { id: "steady", offsets: { clicks: [clicks(-30), clicks(-30)] } },
        { id: "growing", offsets: { orders: [0] } },
        { id: "shrinking", offsets: { payments: [0] } },
        { id: "idle", offsets: { audit: [500] } },
        { id: "stalled", offsets: { jobs: [100] } },
        { id: "stopped", offsets: { jobs: [100] } },
        { id: "rewound", offsets: { orders: [0] } },
        { id: "fresh", state: "stable", members: [{ id: "f1", assignments: { mail: [0, 1] } }] },
      ],
      at: iso(0),
    };
    await writeCluster(etcd.keyspace, spec);
    service = await startTestService(
      etcd.endpoint,
      etcd.namespace,
      { KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: "5s", KAFSCALE_MCP_LAG_WINDOW: "10" },
      { now: clock.now },
    );
    await service.sync?.ready();
    for (let t = STEP; t <= END; t += STEP) {
      clock.advance(STEP * 1000);
      const revision = await writeToEtcd(etcd.keyspace, writesAt(t));
      await service.sync?.waitForRevision(revision);
    }
    await service.store.lag.evaluator.run();
    client = await connectClient(service.url as string);
  });
  afterAll(async () => {
    await client?.close();
    await service?.close();
    etcd.client.close();
  });

  const lagOf = async (args: Record<string, unknown> = {}) => callTool<any>(client, "consumer_lag", args);
  const groupOf = async (group: string) => (await lagOf({ group })).groups[0];

  it("reaches every group status, the groups needing attention first", async () => {
    const answer = await lagOf();
    expect(answer.groups.map((g: any) => [g.group_id, g.status])).toEqual([
      ["rewound", "ERR"],
      ["stalled", "ERR"],
      ["stopped", "ERR"],
      ["growing", "WARN"],
      ["fresh", "UNKNOWN"],
      ["steady", "OK"],
      ["shrinking", "OK"],
      ["idle", "OK"],
    ]);
    expect(answer.evaluated_at).toBe(iso(END));
    expect(answer.window_seconds).toBe(50);
    expect(answer.truncated).toBe(false);
  });

  it("reaches every partition status, each with its reason", async () => {
    const worst = async (group: string) => (await groupOf(group)).worst_partitions;
    expect(await worst("stalled")).toEqual([
      {
        topic: "jobs",
        partition: 0,
        status: "STALL",
        lag: jobs(END) - 100,
        time_lag_seconds: expect.any(Number),
        reason: `commits continue but the offset has not moved since ${isoSeconds(0)}; ${jobs(END) - 100} behind`,
      },
    ]);
    expect((await worst("stopped"))[0]).toMatchObject({ status: "STOP", reason: `no commit since ${isoSeconds(0)} while ${jobs(END) - 100} behind` });
    expect((await worst("rewound"))[0]).toMatchObject({
      status: "REWIND",
      reason: `committed offset went back from 3900 at ${isoSeconds(45)}`,
    });
    // The window keeps 10 commit points: 15 s to 60 s, when the lag was 750 and then 3000.
    expect((await worst("growing"))[0]).toMatchObject({ status: "WARN", reason: "lag grew from 750 to 3000 over the window" });
    expect(await worst("fresh")).toEqual([
      { topic: "mail", partition: 0, status: "UNKNOWN", lag: null, time_lag_seconds: null, reason: "never committed" },
      { topic: "mail", partition: 1, status: "UNKNOWN", lag: null, time_lag_seconds: null, reason: "never committed" },
    ]);
    const steady = await groupOf("steady");
    expect(steady.partitions).toEqual({ total: 2, OK: 2, WARN: 0, STALL: 0, STOP: 0, REWIND: 0, UNKNOWN: 0 });
    expect(steady.worst_partitions).toEqual([]);
  });

  it("time lag within 10% of the scripted truth", async () => {
    const steady = await groupOf("steady");
    // The steady consumers commit what was produced 30 s earlier.
    expect(steady.time_lag_seconds).toBeGreaterThanOrEqual(27);
    expect(steady.time_lag_seconds).toBeLessThanOrEqual(33);
    expect(steady.total_lag).toBe(2 * (clicks(END) - clicks(END - 30)));
    expect((await groupOf("idle")).time_lag_seconds).toBe(0);
    expect((await groupOf("fresh")).time_lag_seconds).toBeNull();
  });

  it("trend and velocity of a growing and a shrinking group", async () => {
    const growing = await groupOf("growing");
    expect(growing).toMatchObject({ trend: "growing", time_to_catch_up_seconds: null });
    expect(growing.velocity.consumed_per_second).toBeCloseTo(50, 0);
    expect(growing.velocity.produced_per_second).toBeCloseTo(100, 0);
    expect(growing.max_lag).toEqual({ topic: "orders", partition: 0, lag: orders(END) - 50 * END });

    const shrinking = await groupOf("shrinking");
    expect(shrinking.trend).toBe("shrinking");
    expect(shrinking.velocity.consumed_per_second).toBeCloseTo(100, 0);
    expect(shrinking.velocity.produced_per_second).toBeCloseTo(40, 0);
    const lag = payments(END) - 100 * END;
    expect(shrinking.total_lag).toBe(lag);
    expect(shrinking.time_to_catch_up_seconds).toBe(Math.round(lag / 60));

    expect((await groupOf("steady")).trend).toBe("steady");
  });

  it("filters by status, minimum lag and topic (summed over that topic), and sorts", async () => {
    expect((await lagOf({ status: "ERR" })).groups.map((g: any) => g.group_id)).toEqual(["rewound", "stalled", "stopped"]);
    expect((await lagOf({ min_lag: 1000 })).groups.every((g: any) => g.total_lag >= 1000)).toBe(true);
    const onOrders = await lagOf({ topic: "orders", sort: "lag" });
    // rewound went back to 500 at 45 s and is 4000 behind at 60 s; growing is 3000 behind.
    expect(onOrders.groups.map((g: any) => g.group_id)).toEqual(["rewound", "growing"]);
    // Growing first, the fastest-growing first: rewound consumed ~22/s of 100 since 10 s, growing 50.
    const byTrend = (await lagOf({ sort: "trend" })).groups;
    expect(byTrend.slice(0, 2).map((g: any) => [g.group_id, g.trend])).toEqual([
      ["rewound", "growing"],
      ["growing", "growing"],
    ]);
    const byTimeLag = await lagOf({ sort: "time_lag" });
    const timeLags = byTimeLag.groups.map((g: any) => g.time_lag_seconds).filter((t: number | null) => t !== null && t > 0);
    expect(timeLags).toEqual([...timeLags].sort((a, b) => b - a));
  });

  it("pages through every group exactly once, also while statuses change between pages", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await lagOf({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.groups.map((g: any) => g.group_id));
      cursor = page.next_cursor;
      pages++;
      // Lag moves between pages: the stopped group falls far behind, the growing one catches up.
      if (pages === 1) {
        clock.advance(1000);
        const revision = await writeToEtcd(etcd.keyspace, [
          endWrite("jobs", 0, 10_000_000),
          commitWrite("growing", "orders", 0, orders(END), clock.now()),
        ]);
        await service.sync?.waitForRevision(revision);
        await service.store.lag.evaluator.run();
      }
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual(["fresh", "growing", "idle", "rewound", "shrinking", "stalled", "steady", "stopped"]);
    expect(new Set(seen).size).toBe(seen.length);
    const invalid = await client.callTool({ name: "consumer_lag", arguments: { cursor: cursorFor("x"), sort: "lag" } });
    expect(invalid.isError).toBe(true);
  });

  it("agrees with REST /api/v1/lag", async () => {
    for (const [query, args] of [
      ["", {}],
      ["?status=ERR&sort=lag", { status: "ERR", sort: "lag" }],
      ["?topic=orders&min_lag=1", { topic: "orders", min_lag: 1 }],
      ["?group=steady", { group: "steady" }],
    ] as const) {
      const res = await fetch(`${service.url}/api/v1/lag${query}`);
      expect(res.status).toBe(200);
      const { freshness: _r, ...rest } = (await res.json()) as Record<string, unknown>;
      const { freshness: _t, ...tool } = await lagOf(args);
      expect(rest).toEqual(tool);
    }
    expect((await fetch(`${service.url}/api/v1/lag?group=nobody`)).status).toBe(404);
    expect((await fetch(`${service.url}/api/v1/lag?status=BAD`)).status).toBe(400);
  });

  it("fetch_offsets and describe_group carry each partition's status and time lag", async () => {
    const offsets = await callTool<any>(client, "fetch_offsets", { group_id: "steady" });
    expect(offsets.offsets.map((o: any) => [o.partition, o.status])).toEqual([
      [0, "OK"],
      [1, "OK"],
    ]);
    for (const o of offsets.offsets) expect(o.time_lag_seconds).toBeGreaterThanOrEqual(27);
    const fresh = await callTool<any>(client, "describe_group", { group_id: "fresh" });
    expect(fresh.members[0].assignments).toEqual([
      { topic: "mail", partitions: [0, 1], status: ["UNKNOWN", "UNKNOWN"], time_lag_seconds: [null, null] },
    ]);
    expect(fresh.lag).toMatchObject({ status: "UNKNOWN", total_lag: 0, time_lag_seconds: null });
  });

  it("an idle topic stays OK however long since its last commit; the others are judged by time alone", async () => {
    clock.advance(3600 * 1000);
    await service.store.lag.evaluator.run();
    // An hour on the service's clock: the MCP session has expired too.
    await client.close();
    client = await connectClient(service.url as string);
    const answer = await lagOf();
    const status = Object.fromEntries(answer.groups.map((g: any) => [g.group_id, g.status]));
    expect(status.idle).toBe("OK");
    expect((await groupOf("idle")).worst_partitions).toEqual([]);
    expect((await groupOf("steady")).worst_partitions[0].status).toBe("STOP");
    expect(answer.evaluated_at).toBe(new Date(clock.now()).toISOString());
  });
});

/** A well-formed cursor of another query. */
function cursorFor(tag: string): string {
  return `${Buffer.from(tag).toString("base64url")}..`;
}
