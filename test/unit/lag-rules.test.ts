/**
 * The lag rules as pure functions (src/kafscale/lag-series.ts, src/kafscale/lag-status.ts): how the
 * sampled history is read, each partition status, time lag, and the group's status, trend and
 * velocity. The examples are the ones docs/LAG.md shows.
 */
import { describe, expect, it } from "vitest";
import { rateBetween, timeReached, valueAt, type SeriesPoint } from "../../src/kafscale/lag-series.js";
import {
  evaluatePartition,
  judgedTimeLag,
  lagOf,
  reasonText,
  summarizeGroup,
  timeLagSeconds,
  type JudgedPartition,
  type LagSettings,
  type PartitionFacts,
} from "../../src/kafscale/lag-status.js";

const S = 1000;
const settings: LagSettings = { intervalMs: 5 * S, windowPoints: 30 }; // a 150 s window
const T0 = Date.parse("2026-11-26T10:00:00Z");
const at = (seconds: number): number => T0 + seconds * S;
const pts = (...pairs: [number, number][]): SeriesPoint[] => pairs.map(([s, value]) => ({ at: at(s), value }));

/** A steady producer: `rate` offsets/s from `from` to `to` seconds, one kept point every 5 s. */
function produced(rate: number, from: number, to: number, base = 0): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (let t = from; t <= to; t += 5) points.push({ at: at(t), value: base + rate * (t - from) });
  return points;
}

describe("reading the sampled history", () => {
  const series = pts([0, 100], [5, 150], [10, 200], [100, 300]);
  it.each([
    ["before the first point", -1, null],
    ["at a point", 5, 150],
    ["between close points: linear", 7.5, 175],
    ["across a wide gap: held until the next point", 60, 200],
    ["at the point after the gap", 100, 300],
    ["after the last point: held", 500, 300],
  ])("%s", (_name, seconds, value) => {
    expect(valueAt(series, at(seconds as number), settings.intervalMs)).toBe(value);
  });

  it.each([
    ["interpolated between close points", 175, 7.5],
    ["a jump after a wide gap is placed at the later point", 250, 100],
    ["extrapolated backwards from the series' overall rate (2/s)", 50, -25],
    ["not reached yet", 301, null],
  ])("time reached: %s", (_name, target, seconds) => {
    const t = timeReached(pts([0, 100], [5, 150], [10, 200], [100, 300]), target as number, settings.intervalMs);
    expect(t).toBe(seconds === null ? null : at(seconds as number));
  });

  it("after a drop (a recreated topic) only the latest rise counts", () => {
    const series = pts([0, 500], [5, 600], [10, 20], [15, 70]);
    expect(timeReached(series, 45, settings.intervalMs)).toBe(at(12.5));
    // Already there when the rise began: that is all that is known.
    expect(timeReached(series, 10, settings.intervalMs)).toBe(at(10));
  });

  it("a flat series cannot be extrapolated", () => {
    expect(timeReached(pts([0, 100], [50, 100]), 50, settings.intervalMs)).toBeNull();
  });

  it("rates between two moments", () => {
    expect(rateBetween(produced(20, 0, 60), at(10), at(60), settings.intervalMs)).toBe(20);
    expect(rateBetween(produced(20, 0, 60), at(-10), at(60), settings.intervalMs)).toBeNull();
  });
});

describe("the lag rule", () => {
  it.each([
    ["listed, committed", true, 40, 100, 60],
    ["ahead of the end offset", true, 120, 100, 0],
    ["missing end offset counts as 0", true, 40, null, 0],
    ["never committed", true, null, 100, null],
    ["negative commit", true, -1, 100, null],
    ["not in the snapshot", false, 40, 100, null],
  ])("%s", (_name, inSnapshot, committed, end, lag) => {
    expect(lagOf(inSnapshot as boolean, committed as number | null, end as number | null)).toBe(lag);
  });

  it.each([
    [null, null, null],
    [0, null, 0],
    [10, null, null],
    [10, at(-42), 42],
  ])("time lag of lag %j behind since %j", (lag, since, seconds) => {
    expect(timeLagSeconds(lag, since, at(0))).toBe(seconds);
  });
});

/** A partition judged at `now` seconds; `commits` and `ends` as (seconds, value). */
function judge(facts: Partial<PartitionFacts> & { now: number }) {
  const { now, ...rest } = facts;
  const full: PartitionFacts = {
    inSnapshot: true,
    committed: null,
    committedAtMs: null,
    endOffset: null,
    commits: [],
    ends: [],
    ...rest,
  };
  return evaluatePartition(full, settings, at(now));
}

describe("partition status", () => {
  it.each([
    ["not in the snapshot", { inSnapshot: false, committed: 5, endOffset: 10 }, "partition not in the cluster snapshot"],
    ["never committed", { endOffset: 10 }, "never committed"],
    ["a negative commit", { committed: -1, endOffset: 10 }, "no usable commit"],
    ["no end offset", { committed: 5 }, "no end offset"],
  ])("UNKNOWN: %s (never a fake 0 time lag)", (_name, facts, reason) => {
    const v = judge({ now: 0, ...(facts as Partial<PartitionFacts>) });
    expect(v.status).toBe("UNKNOWN");
    expect(reasonText(v)).toContain(reason);
    expect(v.behindSince).toBeNull();
    expect(judgedTimeLag(v.status, v.lag, v.behindSince, at(0))).toBeNull();
  });

  it("OK: an idle topic with nothing to consume, however old the last commit", () => {
    const v = judge({
      now: 86_400,
      committed: 500,
      committedAtMs: at(0),
      endOffset: 500,
      commits: pts([0, 500]),
      ends: pts([0, 500]),
    });
    expect(v).toMatchObject({ status: "OK", lag: 0, behindSince: null, consumedRate: 0, producedRate: 0, recheckAt: null });
    expect(reasonText(v)).toBe("caught up");
  });

  it("OK: consuming as fast as producing, a constant lag", () => {
    const ends = produced(100, 0, 150, 1000);
    const commits = produced(100, 0, 150, 900);
    const v = judge({ now: 150, committed: 15_900, committedAtMs: at(150), endOffset: 16_000, commits, ends });
    expect(v.status).toBe("OK");
    expect(reasonText(v)).toBe("consuming; 100 behind");
    expect(v.consumedRate).toBeCloseTo(100);
    expect(v.producedRate).toBeCloseTo(100);
    // The end offset passed 15,900 one second before now.
    expect(timeLagSeconds(v.lag, v.behindSince, at(150))).toBeCloseTo(1, 5);
  });

  it("WARN: the lag grows across the window", () => {
    const ends = produced(100, 0, 150);
    const commits = produced(50, 0, 150);
    const v = judge({ now: 150, committed: 7500, committedAtMs: at(150), endOffset: 15_000, commits, ends });
    expect(v.status).toBe("WARN");
    expect(reasonText(v)).toBe("lag grew from 0 to 7500 over the window");
    // 7,500 was the end offset at 75 s.
    expect(timeLagSeconds(v.lag, v.behindSince, at(150))).toBeCloseTo(75, 5);
  });

  it("STALL: commits continue but the offset does not move while behind", () => {
    const v = judge({
      now: 300,
      committed: 400,
      committedAtMs: at(295),
      endOffset: 900,
      commits: pts([0, 100], [100, 400]),
      ends: produced(3, 0, 300, 100),
    });
    expect(v.status).toBe("STALL");
    expect(reasonText(v)).toBe("commits continue but the offset has not moved since 2026-11-26T10:01:40Z; 500 behind");
  });

  it("STOP: no commit for longer than the window while behind", () => {
    const v = judge({
      now: 400,
      committed: 400,
      committedAtMs: at(100),
      endOffset: 900,
      commits: pts([0, 100], [100, 400]),
      ends: pts([0, 100], [200, 900]),
    });
    expect(v.status).toBe("STOP");
    expect(reasonText(v)).toBe("no commit since 2026-11-26T10:01:40Z while 500 behind");
    // Passed 400 at the jump to 900 (a wide gap: held, then the change).
    expect(timeLagSeconds(v.lag, v.behindSince, at(400))).toBe(200);
  });

  it("a stopped consumer turns STOP by time alone: the verdict says when to look again", () => {
    const facts = { committed: 400, committedAtMs: at(100), endOffset: 900, commits: pts([100, 400]), ends: pts([0, 900]) };
    const before = judge({ now: 200, ...facts });
    expect(before.status).toBe("OK");
    expect(before.recheckAt).toBe(at(250) + 1);
    expect(judge({ now: 251, ...facts }).status).toBe("STOP");
  });

  it("REWIND: the committed offset went backwards inside the window, and only then", () => {
    const facts = {
      committed: 200,
      committedAtMs: at(100),
      endOffset: 1000,
      commits: pts([0, 800], [100, 200]),
      ends: pts([0, 1000]),
    };
    const v = judge({ now: 110, ...facts });
    expect(v.status).toBe("REWIND");
    expect(reasonText(v)).toBe("committed offset went back from 800 at 2026-11-26T10:01:40Z");
    expect(v.recheckAt).toBe(at(250) + 1);
    expect(judge({ now: 251, ...facts }).status).toBe("STOP");
  });

  it("a rewind shows in the current commit before it is a kept point", () => {
    const v = judge({ now: 10, committed: 100, committedAtMs: at(9), endOffset: 1000, commits: pts([0, 800], [8, 900]), ends: pts([0, 1000]) });
    expect(v.status).toBe("REWIND");
  });

  it("the rates need two intervals of history", () => {
    const v = judge({ now: 9, committed: 10, committedAtMs: at(0), endOffset: 20, commits: pts([0, 10]), ends: pts([0, 20]) });
    expect(v.consumedRate).toBeNull();
    expect(v.producedRate).toBeNull();
    expect(v.historyStart).toBe(at(0));
  });
});

const judged = (overrides: Partial<JudgedPartition>): JudgedPartition => ({
  topic: "orders",
  partition: 0,
  status: "OK",
  lag: 0,
  behindSince: null,
  consumedRate: 10,
  producedRate: 10,
  since: null,
  detail: null,
  historyStart: at(0),
  points: 2,
  ...overrides,
});

describe("group status, trend and velocity", () => {
  it.each([
    [["OK", "OK"], "OK"],
    [["OK", "WARN"], "WARN"],
    [["WARN", "STALL"], "ERR"],
    [["OK", "STOP"], "ERR"],
    [["REWIND"], "ERR"],
    [["UNKNOWN", "OK"], "OK"],
    [["UNKNOWN", "UNKNOWN"], "UNKNOWN"],
    [[], "UNKNOWN"],
  ])("partitions %j make the group %s", (statuses, status) => {
    const g = summarizeGroup(
      (statuses as JudgedPartition["status"][]).map((s, partition) => judged({ status: s, partition })),
      settings,
      at(0),
    );
    expect(g.status).toBe(status);
  });

  it("growing: produced faster than consumed", () => {
    const g = summarizeGroup(
      [judged({ lag: 500, consumedRate: 50, producedRate: 100 }), judged({ partition: 1, lag: 100, consumedRate: 50, producedRate: 80 })],
      settings,
      at(0),
    );
    expect(g).toMatchObject({ trend: "growing", consumedRate: 100, producedRate: 180, totalLag: 600, catchUpSeconds: null });
    expect(g.maxLag).toEqual({ topic: "orders", partition: 0, lag: 500 });
  });

  it("shrinking: consumed faster than produced, with the time to catch up", () => {
    const g = summarizeGroup([judged({ lag: 6000, consumedRate: 150, producedRate: 100 })], settings, at(0));
    expect(g).toMatchObject({ trend: "shrinking", catchUpSeconds: 120 });
  });

  it.each([
    ["within 5% of the rates", { lag: 100, consumedRate: 100, producedRate: 104 }, "steady"],
    ["caught up", { lag: 0, consumedRate: 0, producedRate: 50 }, "steady"],
    ["no rates yet", { lag: 10, consumedRate: null, producedRate: null }, "unknown"],
  ])("%s → %s", (_name, overrides, trend) => {
    expect(summarizeGroup([judged(overrides as Partial<JudgedPartition>)], settings, at(0)).trend).toBe(trend);
  });

  it("names the worst partitions that are not OK, most urgent first, and the earliest behind-since", () => {
    const g = summarizeGroup(
      [
        judged({ partition: 0, status: "WARN", lag: 900, behindSince: at(-30), detail: 10 }),
        judged({ partition: 1, status: "STOP", lag: 10, behindSince: at(-600), since: at(-700) }),
        judged({ partition: 2, status: "OK", lag: 5000, behindSince: at(-5), historyStart: at(-400) }),
        judged({ partition: 3, status: "UNKNOWN", lag: null, detail: 2, consumedRate: null, producedRate: null, historyStart: null }),
        judged({ partition: 4, status: "STALL", lag: 20, behindSince: at(-100), since: at(-90) }),
      ],
      settings,
      at(0),
    );
    expect(g.worst.map((w) => [w.partition, w.status])).toEqual([
      [1, "STOP"],
      [4, "STALL"],
      [0, "WARN"],
    ]);
    expect(g.behindSince).toBe(at(-600));
    expect(g.counts).toEqual({ OK: 1, WARN: 1, STALL: 1, STOP: 1, REWIND: 0, UNKNOWN: 1 });
    expect(g.totalLag).toBe(5930);
    // The window: a span (150 s) back from the evaluation, since every history is older.
    expect(g.windowFrom).toBe(at(-150));
    expect(g.historyStart).toBe(at(0));
  });
});
