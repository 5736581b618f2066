/**
 * Routing of etcd keys under `/kafscale/` (kafscale-contract.md §1) and the inverse key builders,
 * both driven by the key kinds' table (kinds.ts).
 *
 * Routing is exact: a key either matches one kind's rule completely or is `{ kind: "unknown" }`, so
 * a stray key (trailing slash, extra segment, non-canonical partition) can never be mistaken for
 * real metadata. Pure functions, no I/O.
 */
import { KAFSCALE_PREFIX } from "./key-segments.js";
import { KINDS, type AnyKind, type KafscaleKey, type KeyBuilders } from "./kinds.js";

export { KAFSCALE_PREFIX, parsePartitionSegment } from "./key-segments.js";

/**
 * etcd keys are bytes; Kafscale's are ASCII. A key that is not valid UTF-8 is mirrored as this
 * prefix plus its bytes in hex (lossless, routes as unknown), so two distinct keys never collapse.
 * Note that these texts do not sort where their bytes sort in etcd.
 */
export const INVALID_UTF8_KEY_PREFIX = `${KAFSCALE_PREFIX}\u0000invalid-utf8:`;

/** Shared result for every key that matches no rule (frozen, so no caller can alter it). */
const UNKNOWN: KafscaleKey = Object.freeze({ kind: "unknown" });

/** The kinds of each area (the first segment after the prefix), in table order. */
const KINDS_BY_AREA: ReadonlyMap<string, readonly AnyKind[]> = (() => {
  const byArea = new Map<string, AnyKind[]>();
  for (const kind of KINDS) {
    const inArea = byArea.get(kind.area);
    if (inArea === undefined) byArea.set(kind.area, [kind]);
    else inArea.push(kind);
  }
  return byArea;
})();

/** Routes a raw etcd key to its Kafscale meaning; anything that matches no rule exactly is `unknown`. */
export function parseKey(key: string): KafscaleKey {
  if (!key.startsWith(KAFSCALE_PREFIX)) return UNKNOWN;
  const rest = key.slice(KAFSCALE_PREFIX.length).split("/");
  // An empty segment (trailing slash, "//", bare prefix) is never produced by Kafscale's
  // fmt.Sprintf key builders with non-empty names, so it cannot be a real record.
  if (rest.includes("")) return UNKNOWN;
  // The array is this call's own: dropping the area in place spares a copy on the hot path.
  const kinds = KINDS_BY_AREA.get(rest.shift() ?? "");
  if (kinds === undefined) return UNKNOWN;
  for (const kind of kinds) {
    const routed = kind.match(rest);
    if (routed !== undefined) return routed;
  }
  return UNKNOWN;
}

/**
 * Builders for the keys Kafscale writes, byte-identical to its Go `fmt.Sprintf` formats
 * (`keys.committedOffset(groupId, topic, partition)`, …; each kind's `build` in kinds.ts).
 * Used by tests, the demo data generator and the benchmark; `parseKey` inverts each of them.
 */
export const keys: KeyBuilders = Object.fromEntries(KINDS.map((kind) => [kind.builder, kind.build] as const)) as KeyBuilders;
