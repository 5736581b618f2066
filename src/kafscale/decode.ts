/**
 * Decoding of every value Kafscale keeps under `/kafscale/` (kafscale-contract.md §1–§4): the
 * dispatcher from a routed key to its kind's decoder. The decoders themselves live with their kinds
 * (kinds.ts), where callers that need one on its own import it from. Pure functions, no I/O.
 */
import { KINDS, type AnyKind, type DecodedEntry, type KafscaleKey } from "./kinds.js";
import { unhandledKind } from "./records.js";

export { DecodeError } from "./decode-support.js";
// bench/store-ab.ts loads decodeSnapshot from this module in any checkout, old or new.
export { decodeSnapshot } from "./kinds.js";

const KIND_NAMED: ReadonlyMap<string, AnyKind> = new Map(KINDS.map((kind) => [kind.kind, kind] as const));

/**
 * Decodes the value stored under an already routed key. `unknown` keys decode to
 * `{ kind: "unknown" }` whatever their value. A value that decodes but carries something the
 * record cannot use (a negative committed offset, a duplicate topic) pushes a decode warning to
 * `warnings`: the record is still served, and the store records what was ignored.
 * @throws DecodeError when the value is malformed for its key kind.
 */
export function decodeEntry(key: KafscaleKey, value: Uint8Array, warnings?: string[]): DecodedEntry {
  if (key.kind === "unknown") return { kind: "unknown" };
  const kind = KIND_NAMED.get(key.kind);
  // A kind that escaped the types (no entry): throw rather than silently decode nothing.
  if (kind === undefined) return unhandledKind(key as never);
  // The entry found by the key's kind decodes that kind's value; a lookup hides the pairing from the types.
  return { ...key, value: kind.decode(value, warnings) } as DecodedEntry;
}
