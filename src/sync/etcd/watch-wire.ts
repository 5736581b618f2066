/**
 * etcd's Watch messages in protobuf wire format (etcdserverpb.WatchRequest/WatchResponse,
 * mvccpb.Event/KeyValue), decoded by hand so that a response's events are decoded only as they are
 * applied. A revision that deletes 400k keys arrives as ONE response; decoding it whole into objects
 * (as the etcd3 client does, ~530 bytes of JavaScript heap per event) takes 220 MB and killed the
 * service at the image's 192 MB heap. Here the response stays one Buffer (~80 bytes per deleted key,
 * outside the JavaScript heap) and events become changes a slice at a time. Pure; no I/O.
 */
import { INVALID_UTF8_KEY_PREFIX } from "../../kafscale/keys.js";
import type { KvChange } from "../../kafscale/records.js";

/** One WatchResponse: its flags, and its events decoded on demand. */
export interface WatchFrame {
  watchId: string;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  /** The revision of etcd when it sent this response (a watermark only on progress notifications). */
  headerRevision: number;
  eventCount: number;
  /** The revision of the newest (last) event; null without events. */
  newestRevision: number | null;
  /** The events in order, as changes, decoded as they are iterated. */
  changes(): Generator<KvChange>;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A cursor over protobuf wire data between `pos` and `end`. */
class WireReader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  /** An unsigned varint as a bigint (int64 fields are two's complement in 10 bytes). */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error("watch response: truncated varint");
      const byte = this.buf[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("watch response: varint too long");
    }
  }

  /** A varint that fits a safe integer (revisions, versions, tags, lengths); signed int64 aware. */
  varint(): number {
    // Fast path: up to 7 bytes (49 bits) is exact in a double, and covers every realistic value.
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7 && this.pos < this.end; i++) {
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    this.pos = start;
    const value = BigInt.asIntN(64, this.varintBig());
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`watch response: integer ${value} out of range`);
    }
    return Number(value);
  }

  /** A length-delimited field's bytes (a view, no copy). */
  bytes(): Buffer {
    const length = this.varint();
    const start = this.pos;
    if (length < 0 || start + length > this.end) throw new Error("watch response: truncated field");
    this.pos = start + length;
    return this.buf.subarray(start, start + length);
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varintBig();
    else if (wireType === LENGTH_DELIMITED) this.bytes();
    else if (wireType === FIXED64) this.pos += 8;
    else if (wireType === FIXED32) this.pos += 4;
    else throw new Error(`watch response: unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new Error("watch response: truncated field");
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wireType: number } {
    const tag = this.varint();
    return { field: tag >>> 3, wireType: tag & 7 };
  }
}

/**
 * etcd keys are bytes; Kafscale's are ASCII. A key that is not valid UTF-8 is kept in an escaped,
 * lossless form (it routes as unknown), so two distinct keys never collapse into one row.
 */
export function keyText(key: Buffer): string {
  const text = key.toString("utf8");
  if (Buffer.from(text, "utf8").equals(key)) return text;
  return `${INVALID_UTF8_KEY_PREFIX}${key.toString("hex")}`;
}

/** Decodes one WatchResponse; `prefixLength` bytes (the client namespace) are cut off every key. */
export function decodeWatchResponse(buf: Buffer, prefixLength = 0): WatchFrame {
  const reader = new WireReader(buf);
  const frame = {
    watchId: "0",
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: "",
    headerRevision: 0,
    eventCount: 0,
  };
  let eventsFrom = -1;
  let lastEvent: Buffer | null = null;
  while (reader.more()) {
    const fieldStart = reader.pos;
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) frame.headerRevision = headerRevision(reader.bytes());
    else if (field === 2 && wireType === VARINT) frame.watchId = BigInt.asIntN(64, reader.varintBig()).toString();
    else if (field === 3 && wireType === VARINT) frame.created = reader.varint() !== 0;
    else if (field === 4 && wireType === VARINT) frame.canceled = reader.varint() !== 0;
    else if (field === 5 && wireType === VARINT) frame.compactRevision = reader.varint();
    else if (field === 6 && wireType === LENGTH_DELIMITED) frame.cancelReason = reader.bytes().toString("utf8");
    else if (field === 11 && wireType === LENGTH_DELIMITED) {
      if (eventsFrom < 0) eventsFrom = fieldStart;
      lastEvent = reader.bytes();
      frame.eventCount++;
    } else reader.skip(wireType);
  }
  return {
    ...frame,
    // Events come in revision order: the last one is the newest (decoded alone, cheaply).
    newestRevision: lastEvent === null ? null : decodeEvent(lastEvent, prefixLength).modRevision,
    *changes() {
      if (eventsFrom < 0) return;
      const events = new WireReader(buf, eventsFrom);
      while (events.more()) {
        const { field, wireType } = events.tag();
        if (field === 11 && wireType === LENGTH_DELIMITED) yield decodeEvent(events.bytes(), prefixLength);
        else events.skip(wireType);
      }
    },
  };
}

function headerRevision(bytes: Buffer): number {
  const reader = new WireReader(bytes);
  let revision = 0;
  while (reader.more()) {
    const { field, wireType } = reader.tag();
    if (field === 3 && wireType === VARINT) revision = reader.varint();
    else reader.skip(wireType);
  }
  return revision;
}

function decodeEvent(bytes: Buffer, prefixLength: number): KvChange {
  const reader = new WireReader(bytes);
  let type: KvChange["type"] = "put";
  let kv: Buffer | null = null;
  while (reader.more()) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === VARINT) type = reader.varint() === 1 ? "delete" : "put";
    else if (field === 2 && wireType === LENGTH_DELIMITED) kv = reader.bytes();
    else reader.skip(wireType);
  }
  if (kv === null) throw new Error("watch response: event without a key-value");
  const change: KvChange = {
    type,
    key: "",
    value: Buffer.alloc(0),
    modRevision: 0,
    createRevision: 0,
    version: 0,
    lease: "0",
  };
  const fields = new WireReader(kv);
  while (fields.more()) {
    const { field, wireType } = fields.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) change.key = keyText(fields.bytes().subarray(prefixLength));
    else if (field === 2 && wireType === VARINT) change.createRevision = fields.varint();
    else if (field === 3 && wireType === VARINT) change.modRevision = fields.varint();
    else if (field === 4 && wireType === VARINT) change.version = fields.varint();
    else if (field === 5 && wireType === LENGTH_DELIMITED) change.value = fields.bytes();
    else if (field === 6 && wireType === VARINT) change.lease = BigInt.asIntN(64, fields.varintBig()).toString();
    else fields.skip(wireType);
  }
  if (type === "delete") change.value = Buffer.alloc(0);
  return change;
}

/** Protobuf encoding of the one request we send: WatchRequest{create_request}. */
export function encodeWatchCreate(request: { key: Buffer; rangeEnd: Buffer; startRevision: number }): Buffer {
  const create = Buffer.concat([
    lengthDelimited(1, request.key),
    lengthDelimited(2, request.rangeEnd),
    varintField(3, BigInt(request.startRevision)),
    // progress_notify: etcd confirms an idle watch is current now and then (a revision watermark).
    varintField(4, 1n),
  ]);
  return lengthDelimited(1, create);
}

function varintBytes(value: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

function varintField(field: number, value: bigint): Buffer {
  return Buffer.concat([varintBytes(BigInt((field << 3) | VARINT)), varintBytes(value)]);
}

function lengthDelimited(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varintBytes(BigInt((field << 3) | LENGTH_DELIMITED)), varintBytes(BigInt(bytes.length)), bytes]);
}
