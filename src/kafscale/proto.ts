/**
 * The Kafscale protobuf messages (proto/metadata.proto, kafscale-contract.md §2), loaded once,
 * plus strict decode and proto3-faithful encode helpers.
 *
 * protobufjs on its own is lenient: its generated decoders dispatch on the field number only,
 * so a known field with the wrong wire type, a group, or invalid UTF-8 in a string can decode
 * into plausible-looking garbage. `decodeMessage` therefore walks the wire format first and
 * rejects those, which also makes random bytes fail instead of yielding half-filled records.
 */
import { isUtf8 } from "node:buffer";
import protobuf from "protobufjs";
import { METADATA_PROTO } from "./metadata-proto.js";

/** Messages defined in proto/metadata.proto (package `kafscale.metadata`). */
export type MessageName =
  | "TopicConfig"
  | "SegmentInfo"
  | "PartitionState"
  | "Assignment"
  | "GroupMember"
  | "ConsumerGroup"
  | "CommittedOffset"
  | "BrokerRegistration"
  | "PartitionAssignment";

/** The resolved protobufjs reflection type of every message. */
export type MessageTypes = Readonly<Record<MessageName, protobuf.Type>>;

const MESSAGE_NAMES: readonly MessageName[] = [
  "TopicConfig",
  "SegmentInfo",
  "PartitionState",
  "Assignment",
  "GroupMember",
  "ConsumerGroup",
  "CommittedOffset",
  "BrokerRegistration",
  "PartitionAssignment",
];

/**
 * int64 values become decimal strings so that `toSafeInteger` can refuse the ones a JS number
 * cannot hold exactly; `defaults` + `arrays` + `objects` make absent proto3 fields, empty repeated
 * fields and empty maps come out as `0`/`""`, `[]` and `{}` rather than missing.
 */
const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  defaults: true,
  arrays: true,
  objects: true,
};

let cachedTypes: MessageTypes | undefined;

/** Parses and resolves the embedded metadata.proto on first use; later calls return the same types. */
export function messageTypes(): MessageTypes {
  if (cachedTypes === undefined) {
    const root = protobuf.parse(METADATA_PROTO, { keepCase: false }).root.resolveAll();
    const entries = MESSAGE_NAMES.map((name) => [name, root.lookupType(`kafscale.metadata.${name}`)] as const);
    cachedTypes = Object.freeze(Object.fromEntries(entries) as Record<MessageName, protobuf.Type>);
  }
  return cachedTypes;
}

/**
 * Decodes one message into a plain object with camelCase field names, every field present and
 * int64 fields as decimal strings. Throws a plain `Error` describing the first malformation.
 */
export function decodeMessage(name: MessageName, bytes: Uint8Array): Record<string, unknown> {
  const type = messageTypes()[name];
  assertWellFormed(type, bytes);
  return type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS);
}

/**
 * Encodes a plain object (camelCase field names) the way Go's proto.Marshal does for proto3:
 * fields are written in field-number order and fields holding their default value are left out,
 * so the output is byte-identical to the broker's for the same record. Map keys are sorted to
 * keep the output deterministic.
 */
export function encodeMessage(name: MessageName, fields: Record<string, unknown>): Uint8Array {
  const type = messageTypes()[name];
  const problem = type.verify(fields);
  if (problem !== null) throw new TypeError(`cannot encode ${name}: ${problem}`);
  return type.encode(type.fromObject(withoutDefaults(type, fields))).finish();
}

/**
 * Converts an int64 decoded as a decimal string into a number, refusing values beyond
 * Number.MAX_SAFE_INTEGER: silently rounding an offset would corrupt lag arithmetic.
 */
export function toSafeInteger(decimal: string): number | undefined {
  const value = Number(decimal);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** protobufjs leaves every own property in the encoding, defaults included; Go's proto3 does not. */
function withoutDefaults(type: protobuf.Type, input: Record<string, unknown>): Record<string, unknown> {
  const output: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = input[field.name];
    if (value === undefined || value === null) continue;
    const nested = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    const convert = (item: unknown): unknown =>
      nested === undefined ? item : withoutDefaults(nested, item as Record<string, unknown>);
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (entries.length > 0) output[field.name] = Object.fromEntries(entries.map(([k, v]) => [k, convert(v)]));
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length > 0) output[field.name] = items.map(convert);
    } else if (nested !== undefined) {
      output[field.name] = convert(value); // proto3 sub-messages have presence: keep even if empty
    } else if (!isDefaultScalar(field.type, value)) {
      output[field.name] = value;
    }
  }
  return output;
}

/** proto3 default of a scalar: "" for strings, false for bools, zero for numbers (int64 may be a string). */
function isDefaultScalar(scalar: string, value: unknown): boolean {
  if (scalar === "string") return value === "";
  if (scalar === "bool") return value === false;
  if (scalar === "bytes") return (value as { length?: number }).length === 0;
  return Number(value) === 0;
}

// ---------------------------------------------------------------------------------------------
// Wire-format check
// ---------------------------------------------------------------------------------------------

/** What one field slot holds: a scalar of a .proto type name, or a nested message. */
type ValueShape = { scalar: string } | { message: protobuf.Type };

/** A field as the wire check sees it; a map field carries the layout of its entry message. */
interface Slot {
  name: string;
  repeated: boolean;
  value: ValueShape;
  mapEntry?: Layout;
}

/** Field number → slot, for one message type. */
type Layout = ReadonlyMap<number, Slot>;

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/** Wire type of each scalar .proto type (protobufjs' own table). */
const SCALAR_WIRE_TYPES = protobuf.types.basic as unknown as Readonly<Record<string, number>>;
/** Scalar types that may also arrive packed in one length-delimited record. */
const PACKABLE_WIRE_TYPES = protobuf.types.packed as unknown as Readonly<Record<string, number>>;

/** Layouts are built once per type: the check runs for every value the sync layer sees. */
const layouts = new WeakMap<protobuf.Type, Layout>();

function layoutOf(type: protobuf.Type): Layout {
  let layout = layouts.get(type);
  if (layout === undefined) {
    layout = new Map(type.fieldsArray.map((field) => [field.id, slotOf(field)]));
    layouts.set(type, layout);
  }
  return layout;
}

function slotOf(field: protobuf.Field): Slot {
  const value: ValueShape =
    field.resolvedType instanceof protobuf.Type ? { message: field.resolvedType } : { scalar: field.type };
  const slot: Slot = { name: field.name, repeated: field.repeated, value };
  if (field instanceof protobuf.MapField) {
    // On the wire a map entry is an implicit message `{ key = 1; value = 2; }`.
    slot.mapEntry = new Map<number, Slot>([
      [1, { name: `${field.name}.key`, repeated: false, value: { scalar: field.keyType } }],
      [2, { name: `${field.name}.value`, repeated: false, value }],
    ]);
  }
  return slot;
}

/** Throws unless `bytes` is a well-formed encoding of `type` (see the module comment). */
function assertWellFormed(type: protobuf.Type, bytes: Uint8Array): void {
  checkFields(layoutOf(type), bytes);
}

/** Walks one message's fields; offsets in errors are relative to that message's bytes. */
function checkFields(layout: Layout, bytes: Uint8Array): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const at = reader.pos;
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (id === 0) throw new Error(`invalid field number 0 at offset ${at}`);
    const slot = layout.get(id);
    if (slot === undefined) {
      // Unknown fields are legal (forward compatibility) but groups (3, 4) do not exist in proto3.
      if (wireType === 3 || wireType === 4) throw new Error(`unexpected group wire type ${wireType} at offset ${at}`);
      reader.skipType(wireType);
    } else if (slot.mapEntry !== undefined) {
      expectWireType(slot, wireType, WIRE_LENGTH_DELIMITED, at);
      checkFields(slot.mapEntry, reader.bytes());
    } else if ("message" in slot.value) {
      expectWireType(slot, wireType, WIRE_LENGTH_DELIMITED, at);
      checkFields(layoutOf(slot.value.message), reader.bytes());
    } else {
      checkScalar(slot, slot.value.scalar, reader, wireType, at);
    }
  }
}

function checkScalar(slot: Slot, scalar: string, reader: protobuf.Reader, wireType: number, at: number): void {
  const packedWireType = PACKABLE_WIRE_TYPES[scalar];
  if (slot.repeated && packedWireType !== undefined && wireType === WIRE_LENGTH_DELIMITED) {
    checkPacked(slot, packedWireType, reader.bytes(), at);
    return;
  }
  expectWireType(slot, wireType, SCALAR_WIRE_TYPES[scalar] ?? WIRE_LENGTH_DELIMITED, at);
  if (scalar === "string") {
    // Go's proto3 unmarshal rejects invalid UTF-8 in string fields; so do we.
    if (!isUtf8(reader.bytes())) throw new Error(`field ${slot.name} is not valid UTF-8 (offset ${at})`);
  } else {
    reader.skipType(wireType);
  }
}

function checkPacked(slot: Slot, elementWireType: number, bytes: Uint8Array, at: number): void {
  if (elementWireType === WIRE_VARINT) {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) reader.skipType(WIRE_VARINT);
    return;
  }
  const width = elementWireType === 1 ? 8 : 4;
  if (bytes.length % width !== 0) throw new Error(`packed field ${slot.name} has a partial element (offset ${at})`);
}

function expectWireType(slot: Slot, actual: number, expected: number, at: number): void {
  if (actual !== expected) {
    throw new Error(`field ${slot.name} has wire type ${actual}, expected ${expected} (offset ${at})`);
  }
}
