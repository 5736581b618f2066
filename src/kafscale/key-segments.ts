/**
 * The pieces every Kafscale key is made of (kafscale-contract.md §1): the prefix and the canonical
 * partition segment, read and written. Shared by the key kinds (kinds.ts: routes and builders) and
 * the router (keys.ts), which imports the kinds, so these live apart from both. Pure functions.
 */

/** Every Kafscale key starts with this; the sync layer watches exactly this prefix. */
export const KAFSCALE_PREFIX = "/kafscale/";

/** The largest partition (and broker NodeID) a Kafscale key or lease holds: Go's int32. */
export const INT32_MAX = 2_147_483_647;

/** Canonical non-negative decimal: no sign, no leading zeros (except "0" itself), no fraction. */
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * Parses a partition segment as Go's `%d` of a non-negative int32 would print it.
 * Returns `undefined` for anything else ("01", "-1", "1.0", "2147483648", "").
 */
export function parsePartitionSegment(segment: string): number | undefined {
  if (!CANONICAL_DECIMAL.test(segment)) return undefined;
  const value = Number(segment);
  return value <= INT32_MAX ? value : undefined;
}

/** Formats a partition like Go's `%d`, refusing values no Kafscale key can hold. */
export function partitionSegment(partition: number): string {
  if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) {
    throw new RangeError(`partition must be a non-negative int32, got ${partition}`);
  }
  return String(partition);
}
