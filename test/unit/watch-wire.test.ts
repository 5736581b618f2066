/**
 * etcd Watch messages in wire format, decoded lazily by src/sync/etcd/watch-wire.ts: every field
 * the sync uses, int64 values beyond 2^53 kept exact, keys outside the namespace cut, bytes that are
 * not UTF-8 kept losslessly, unknown fields skipped, and truncated data refused.
 */
import { describe, expect, it } from "vitest";
import { decodeWatchResponse, encodeWatchCreate, keyText } from "../../src/sync/etcd/watch-wire.js";
import { INVALID_UTF8_KEY_PREFIX } from "../../src/kafscale/keys.js";

// A tiny protobuf writer, independent of the code under test.
const varint = (value: bigint): number[] => {
  const v = BigInt.asUintN(64, value);
  return v < 0x80n ? [Number(v)] : [Number(v & 0x7fn) | 0x80, ...varint(v >> 7n)];
};
const num = (field: number, value: bigint | number): number[] => [...varint(BigInt((field << 3) | 0)), ...varint(BigInt(value))];
const bytes = (field: number, data: Buffer | number[] | string): number[] => {
  const buf = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(buf.length)), ...buf];
};
const msg = (...fields: number[][]): number[] => fields.flat();

const kv = (key: string | Buffer, fields: { create?: number; mod: number; version?: number; value?: string; lease?: bigint }): number[] =>
  msg(
    bytes(1, typeof key === "string" ? Buffer.from(key) : key),
    num(2, fields.create ?? fields.mod),
    num(3, fields.mod),
    num(4, fields.version ?? 1),
    fields.value === undefined ? [] : bytes(5, fields.value),
    fields.lease === undefined ? [] : num(6, fields.lease),
  );
const event = (type: 0 | 1, kvBytes: number[]): number[] => msg(type === 0 ? [] : num(1, 1), bytes(2, kvBytes));
const header = (revision: number): number[] => bytes(1, msg(num(1, 99n), num(2, 7n), num(3, revision), num(4, 3n)));

describe("watch responses", () => {
  it("decodes flags, the header revision and events, cutting the namespace off every key", () => {
    const ns = "/tenant-a";
    const buf = Buffer.from(
      msg(
        header(42),
        num(2, 5),
        bytes(11, event(0, kv(`${ns}/kafscale/metadata/snapshot`, { create: 3, mod: 41, version: 2, value: "{}", lease: 7587868236410193412n }))),
        bytes(11, event(1, kv(`${ns}/kafscale/topics/orders/config`, { mod: 42, version: 0 }))),
        bytes(99, "a field from a newer etcd"),
      ),
    );
    const frame = decodeWatchResponse(buf, Buffer.from(ns).length);
    expect(frame).toMatchObject({ watchId: "5", created: false, canceled: false, headerRevision: 42, eventCount: 2 });
    expect([...frame.changes()]).toEqual([
      {
        type: "put",
        key: "/kafscale/metadata/snapshot",
        value: Buffer.from("{}"),
        modRevision: 41,
        createRevision: 3,
        version: 2,
        // A lease id above 2^53 stays exact.
        lease: "7587868236410193412",
      },
      { type: "delete", key: "/kafscale/topics/orders/config", value: Buffer.alloc(0), modRevision: 42, createRevision: 42, version: 0, lease: "0" },
    ]);
    // The events can be decoded again (each pass starts from the message).
    expect([...frame.changes()]).toHaveLength(2);
  });

  it("reads created, canceled with its reason and compact revision, and progress notifications", () => {
    expect(decodeWatchResponse(Buffer.from(msg(header(10), num(3, 1))))).toMatchObject({ created: true, eventCount: 0 });
    const canceled = decodeWatchResponse(
      Buffer.from(msg(header(10), num(4, 1), num(5, 8), bytes(6, "mvcc: required revision has been compacted"))),
    );
    expect(canceled).toMatchObject({ canceled: true, compactRevision: 8, cancelReason: "mvcc: required revision has been compacted" });
    const progress = decodeWatchResponse(Buffer.from(header(77)));
    expect(progress).toMatchObject({ headerRevision: 77, eventCount: 0 });
    expect([...progress.changes()]).toEqual([]);
  });

  it("keeps keys that are not UTF-8 losslessly and apart", () => {
    const raw = Buffer.from([...Buffer.from("/kafscale/x/"), 0xff, 0xfe]);
    const frame = decodeWatchResponse(Buffer.from(bytes(11, event(0, kv(raw, { mod: 2, value: "v" })))));
    expect([...frame.changes()][0]?.key).toBe(`${INVALID_UTF8_KEY_PREFIX}${raw.toString("hex")}`);
    expect(keyText(Buffer.from("/kafscale/ok"))).toBe("/kafscale/ok");
  });

  it("counts 100,000 events without decoding them, and decodes them one by one", () => {
    const one = bytes(11, event(1, kv("/kafscale/consumers/g/offsets/t/0", { mod: 9, version: 0 })));
    const buf = Buffer.from(Array.from({ length: 100_000 }, () => one).flat());
    const frame = decodeWatchResponse(buf);
    expect(frame.eventCount).toBe(100_000);
    let n = 0;
    for (const change of frame.changes()) {
      if (change.type === "delete") n++;
    }
    expect(n).toBe(100_000);
  });

  it("refuses truncated data", () => {
    const whole = Buffer.from(bytes(11, event(0, kv("/kafscale/a", { mod: 2, value: "v" }))));
    expect(() => decodeWatchResponse(whole.subarray(0, whole.length - 3))).toThrow(/truncated/);
    expect(() => decodeWatchResponse(Buffer.from([0x08, 0xff]))).toThrow(/truncated/);
  });
});

describe("watch create request", () => {
  it("encodes key, range end, start revision and progress_notify as WatchRequest.create_request", () => {
    const encoded = encodeWatchCreate({ key: Buffer.from("/kafscale/"), rangeEnd: Buffer.from("/kafscale0"), startRevision: 300 });
    const create = msg(bytes(1, "/kafscale/"), bytes(2, "/kafscale0"), num(3, 300), num(4, 1));
    expect([...encoded]).toEqual(bytes(1, create));
  });
});
