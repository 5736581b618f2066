/**
 * The compact form of one lag history series (migration 8): the whole window in one BLOB, so a series
 * costs one row instead of one row (and one primary-key entry) per point.
 *
 * Layout: byte 0 is the format (1), byte 1 a check byte over the rest, then per point, oldest first,
 * two zigzag LEB128 varints: the first point's `at` and `value`, the second's deltas from the first,
 * then the delta of delta of each (this point's delta minus the previous point's). Points are sampled about one interval apart and
 * offsets move at about the same rate, so both second deltas are usually small: 1 or 2 bytes each.
 * The same layout is decoded in SQL by the views lag_end_offset_points and lag_commit_points
 * (LAG_POINTS_SQL below), so ops read points with plain SQL.
 *
 * A blob that does not decode (wrong format, check byte, truncated varint, times not increasing,
 * a number beyond the safe range) is a LagSeriesCorrupt error, never a wrong point.
 */
import type { SeriesPoint } from "../kafscale/lag-series.js";

export const LAG_SERIES_FORMAT = 1;
const HEADER = 2;
/**
 * Times and values must stay within ±2^50 (Unix ms until year 37,000; offsets up to 10^15), so every
 * second delta and its zigzag form are exact in a JavaScript number and in SQLite's 64-bit integers.
 */
export const LAG_SERIES_MAX_ABS = 2 ** 50;
/** A varint of more than 8 bytes (56 bits) is never written. */
const MAX_VARINT_BYTES = 8;

/** A stored series that does not decode. */
export class LagSeriesCorrupt extends Error {
  override readonly name = "LagSeriesCorrupt";
}

/** Whether a point can be stored exactly. */
export function storable(point: SeriesPoint): boolean {
  return (
    Number.isSafeInteger(point.at) &&
    Number.isSafeInteger(point.value) &&
    Math.abs(point.at) <= LAG_SERIES_MAX_ABS &&
    Math.abs(point.value) <= LAG_SERIES_MAX_ABS
  );
}

const zigzag = (n: number): number => (n >= 0 ? 2 * n : -2 * n - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** CRC-8 (polynomial 0x07) table. */
const CRC8 = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  return c;
});

/**
 * The check byte of a series: CRC-8 of its points, seeded with their length. It catches every single
 * changed byte (any burst of up to 8 bits) and other damage with probability 255/256.
 */
export function checkByte(bytes: Uint8Array, start = HEADER): number {
  let c = (bytes.length - start) & 0xff;
  for (let i = start; i < bytes.length; i++) c = CRC8[c ^ (bytes[i] as number)] as number;
  return c;
}

/** Encodes a series (strictly increasing times, every point storable) in its compact form. */
export function encodeSeries(points: readonly SeriesPoint[]): Buffer {
  const out: number[] = [LAG_SERIES_FORMAT, 0];
  const put = (n: number): void => {
    let z = zigzag(n);
    while (z >= 0x80) {
      out.push((z % 0x80) | 0x80);
      z = Math.floor(z / 0x80);
    }
    out.push(z);
  };
  let at = 0;
  let dAt = 0;
  let value = 0;
  let dValue = 0;
  points.forEach((p, i) => {
    if (!storable(p)) throw new RangeError(`lag history point out of range: ${p.at}, ${p.value}`);
    if (i > 0 && p.at <= at) throw new RangeError("lag history points must have increasing times");
    put(p.at - at - dAt);
    put(p.value - value - dValue);
    // The first point's varints are absolute; the deltas start after it.
    dAt = i === 0 ? 0 : p.at - at;
    dValue = i === 0 ? 0 : p.value - value;
    at = p.at;
    value = p.value;
  });
  const bytes = Buffer.from(out);
  bytes[1] = checkByte(bytes);
  return bytes;
}

/** Decodes a stored series; throws LagSeriesCorrupt when it is not one this codec wrote. */
export function decodeSeries(bytes: Uint8Array): SeriesPoint[] {
  if (bytes.length < HEADER || bytes[0] !== LAG_SERIES_FORMAT) {
    throw new LagSeriesCorrupt(`lag history series: unknown format ${bytes[0] ?? "(empty)"}`);
  }
  if (bytes[1] !== checkByte(bytes)) throw new LagSeriesCorrupt("lag history series: check byte mismatch");
  let i = HEADER;
  const next = (): number => {
    let z = 0;
    let scale = 1;
    for (let n = 0; n < MAX_VARINT_BYTES; n++) {
      if (i >= bytes.length) throw new LagSeriesCorrupt("lag history series: truncated");
      const b = bytes[i++] as number;
      z += (b & 0x7f) * scale;
      if (b < 0x80) return unzigzag(z);
      scale *= 0x80;
    }
    throw new LagSeriesCorrupt("lag history series: varint too long");
  };
  const points: SeriesPoint[] = [];
  let at = 0;
  let dAt = 0;
  let value = 0;
  let dValue = 0;
  while (i < bytes.length) {
    const first = points.length === 0;
    const point = { at: at + dAt + next(), value: value + dValue + next() };
    if (!storable(point)) throw new LagSeriesCorrupt("lag history series: a point out of range");
    if (!first && point.at <= at) throw new LagSeriesCorrupt("lag history series: times not increasing");
    dAt = first ? 0 : point.at - at;
    dValue = first ? 0 : point.value - value;
    at = point.at;
    value = point.value;
    points.push(point);
  }
  return points;
}

/**
 * The series after a new kept point: appended (or replacing the last point at the same moment),
 * then the oldest dropped beyond `windowPoints`.
 */
export function withPoint(points: readonly SeriesPoint[], point: SeriesPoint, windowPoints: number): SeriesPoint[] {
  const last = points[points.length - 1];
  const kept = last !== undefined && last.at >= point.at ? points.filter((p) => p.at < point.at) : [...points];
  kept.push(point);
  return kept.slice(Math.max(0, kept.length - windowPoints));
}

/**
 * SQL that decodes the series in column `blob` of the current row into a JSON array of [at, value]
 * pairs, oldest first (an empty array for a blob of another format): a correlated scalar subquery,
 * used as `json_each(${LAG_POINTS_SQL("s.points")})` so a filter on the series table's key still
 * seeks. Written for the sqlite3 shell too (3.40: no unhex); it does not verify the check byte.
 */
export function lagPointsSql(blob: string): string {
  // The byte at 1-based index `i`, from its two hex digits.
  const byte = (i: string): string =>
    `((instr('123456789ABCDEF', substr(hex(substr(${blob}, ${i}, 1)), 1, 1)) << 4) + instr('123456789ABCDEF', substr(hex(substr(${blob}, ${i}, 1)), 2, 1)))`;
  // The varint ending at this byte, zigzag-decoded.
  const z = "(d.acc + ((d.b & 127) << d.sh))";
  const delta = `(CASE WHEN ${z} & 1 THEN -((${z} + 1) >> 1) ELSE ${z} >> 1 END)`;
  const ends = "d.b < 128";
  // State: byte index i and its value b, the varint so far (acc, sh), which field it is (f: 0 time,
  // 1 value), points done (n), the last point (at, v) and its deltas (da, dv; 0 after the first).
  return `(WITH RECURSIVE d(i, b, acc, sh, f, n, at, da, v, dv, emit) AS (
      SELECT 3, ${byte("3")}, 0, 0, 0, 0, 0, 0, 0, 0, 0 WHERE substr(${blob}, 1, 1) = x'01'
      UNION ALL
      SELECT d.i + 1, ${byte("d.i + 1")},
             CASE WHEN ${ends} THEN 0 ELSE ${z} END,
             CASE WHEN ${ends} THEN 0 ELSE d.sh + 7 END,
             CASE WHEN ${ends} THEN 1 - d.f ELSE d.f END,
             CASE WHEN ${ends} AND d.f = 1 THEN d.n + 1 ELSE d.n END,
             CASE WHEN ${ends} AND d.f = 0 THEN d.at + d.da + ${delta} ELSE d.at END,
             CASE WHEN ${ends} AND d.f = 0 THEN (CASE WHEN d.n = 0 THEN 0 ELSE d.da + ${delta} END) ELSE d.da END,
             CASE WHEN ${ends} AND d.f = 1 THEN d.v + d.dv + ${delta} ELSE d.v END,
             CASE WHEN ${ends} AND d.f = 1 THEN (CASE WHEN d.n = 0 THEN 0 ELSE d.dv + ${delta} END) ELSE d.dv END,
             ${ends} AND d.f = 1
      FROM d WHERE d.i <= length(${blob}) AND d.sh < 56)
    SELECT json_group_array(json_array(at, v)) FROM d WHERE emit)`;
}
