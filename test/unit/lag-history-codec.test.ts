/**
 * The compact form of a lag history series (src/store/lag-history-codec.ts): exact round trips,
 * trimming to the window, the stored range, and damage that is always a LagSeriesCorrupt error —
 * never a crash, never a wrong point. The SQL decoder of the views is checked against the JS one.
 */
import { describe, expect, it } from "vitest";
import type { SeriesPoint } from "../../src/kafscale/lag-series.js";
import {
  checkByte,
  decodeSeries,
  encodeSeries,
  LAG_SERIES_MAX_ABS,
  LagSeriesCorrupt,
  lagPointsSql,
  storable,
  withPoint,
} from "../../src/store/lag-history-codec.js";
import { Database } from "../../src/store/sqlite-driver.js";

const T0 = Date.parse("2026-11-26T10:00:00Z");

/** Sampled about every 5 s with jitter, values moving unevenly, a rewind and a negative offset. */
const irregular: SeriesPoint[] = [
  { at: T0, value: 0 },
  { at: T0 + 5_000, value: 120 },
  { at: T0 + 10_003, value: 180 },
  { at: T0 + 15_250, value: 90 }, // a rewind
  { at: T0 + 86_400_000, value: 2 ** 40 },
  { at: T0 + 86_400_001, value: -1 },
];

const cases: Record<string, SeriesPoint[]> = {
  empty: [],
  "one point": [{ at: T0, value: 42 }],
  "even steps": Array.from({ length: 30 }, (_, i) => ({ at: T0 + i * 5_000, value: 1_000 + i * 100 })),
  irregular,
  "the stored range's edges": [
    { at: -LAG_SERIES_MAX_ABS, value: LAG_SERIES_MAX_ABS },
    { at: 0, value: -LAG_SERIES_MAX_ABS },
    { at: LAG_SERIES_MAX_ABS, value: LAG_SERIES_MAX_ABS },
  ],
};

/** A blob with a valid format and check byte around arbitrary point bytes. */
const sealed = (body: number[]): Buffer => {
  const bytes = Buffer.from([1, 0, ...body]);
  bytes[1] = checkByte(bytes);
  return bytes;
};

describe("lag history codec", () => {
  it.each(Object.entries(cases))("round-trips exactly: %s", (_, points) => {
    expect(decodeSeries(encodeSeries(points))).toEqual(points);
  });

  it("stores even steps in 2 bytes a point, uneven ones in a few", () => {
    const even = encodeSeries(cases["even steps"] as SeriesPoint[]);
    // Header, the first point's absolute time (6 bytes) and value, the second point's deltas; then 1 + 1 bytes.
    expect(even.length).toBeLessThanOrEqual(2 + 8 + 4 + 28 * 2);
    const uneven = Array.from({ length: 30 }, (_, i) => ({ at: T0 + i * 5_000 + ((i * 37) % 300), value: i * 100 + ((i * 53) % 100) }));
    expect(encodeSeries(uneven).length).toBeLessThanOrEqual(2 + 8 + 4 + 28 * 4);
  });

  it("appends a kept point, replaces one at the same moment, and trims the oldest beyond the window", () => {
    let points: SeriesPoint[] = [];
    for (let i = 0; i < 50; i++) points = withPoint(points, { at: T0 + i * 5_000, value: i }, 30);
    expect(points).toHaveLength(30);
    expect(points[0]).toEqual({ at: T0 + 20 * 5_000, value: 20 });
    expect(decodeSeries(encodeSeries(points))).toEqual(points);
    const replaced = withPoint(points, { at: T0 + 49 * 5_000, value: 99 }, 30);
    expect(replaced).toHaveLength(30);
    expect(replaced.at(-1)).toEqual({ at: T0 + 49 * 5_000, value: 99 });
    expect(withPoint(points, { at: T0 + 50 * 5_000, value: 50 }, 3).map((p) => p.value)).toEqual([48, 49, 50]);
  });

  it("refuses points it cannot store exactly", () => {
    expect(storable({ at: T0, value: LAG_SERIES_MAX_ABS + 1 })).toBe(false);
    expect(storable({ at: T0, value: 1.5 })).toBe(false);
    expect(storable({ at: Number.NaN, value: 1 })).toBe(false);
    expect(() => encodeSeries([{ at: T0, value: 2 ** 60 }])).toThrow(RangeError);
    expect(() => encodeSeries([{ at: T0, value: 1 }, { at: T0, value: 2 }])).toThrow(RangeError);
  });

  it("rejects every changed byte and every truncation of a stored series", () => {
    const good = encodeSeries(irregular);
    for (let i = 0; i < good.length; i++) {
      for (let flip = 1; flip < 256; flip++) {
        const bad = Buffer.from(good);
        bad[i] = (bad[i] as number) ^ flip;
        expect(() => decodeSeries(bad), `byte ${i} ^ ${flip}`).toThrow(LagSeriesCorrupt);
      }
    }
    for (let n = 0; n < good.length; n++) expect(() => decodeSeries(good.subarray(0, n)), `first ${n} bytes`).toThrow(LagSeriesCorrupt);
  });

  it("rejects damage that passes the check byte: truncated varints, times not increasing, out of range", () => {
    expect(() => decodeSeries(sealed([0x80]))).toThrow(/truncated/);
    expect(() => decodeSeries(sealed([2]))).toThrow(/truncated/); // a time without its value
    expect(() => decodeSeries(sealed(Array(9).fill(0xff)))).toThrow(/too long/);
    expect(() => decodeSeries(sealed([2, 2, 1, 0]))).toThrow(/not increasing/); // at 1, then at 1 + 1 - 1 = 1
    // zigzag(2^51) as a varint: beyond the stored range.
    const big: number[] = [];
    for (let z = 2 ** 52; z >= 0x80; z = Math.floor(z / 0x80)) big.push((z % 0x80) | 0x80);
    big.push(Math.floor(2 ** 52 / 0x80 ** 7));
    expect(() => decodeSeries(sealed([...big, 0]))).toThrow(/out of range/);
    expect(() => decodeSeries(Buffer.from([2, 0]))).toThrow(/unknown format/);
    expect(() => decodeSeries(Buffer.alloc(0))).toThrow(LagSeriesCorrupt);
  });

  it("decodes in SQL exactly as in JavaScript (the views ops read)", () => {
    const db = new Database(":memory:");
    try {
      db.exec("CREATE TABLE s (name TEXT PRIMARY KEY, points BLOB NOT NULL)");
      const put = db.prepare("INSERT INTO s VALUES (?, ?)");
      for (const [name, points] of Object.entries(cases)) put.run(name, encodeSeries(points));
      put.run("another format", Buffer.from([2, 0, 4, 4]));
      const read = db.prepare<[string], { at: number; value: number }>(
        `SELECT json_extract(p.value, '$[0]') AS at, json_extract(p.value, '$[1]') AS value
         FROM s, json_each(${lagPointsSql("s.points")}) p WHERE s.name = ? ORDER BY p.key`,
      );
      for (const [name, points] of Object.entries(cases)) expect(read.all(name), name).toEqual(points);
      expect(read.all("another format")).toEqual([]);
    } finally {
      db.close();
    }
  });
});
