/**
 * Paging for fetch_offsets: the most-lagging partitions first, then the rest in (topic, partition)
 * order — and every partition exactly once across pages, although lag changes between calls.
 *
 * Keyset paging over lag cannot promise that: a partition whose lag moves across the cursor between
 * two calls would be sent twice or never. So the lag-ordered part (the "head", at most
 * HEAD_PARTITIONS partitions, all with lag > 0) is remembered by identity instead: the cursor carries
 * a 48-bit hash of each head partition sent. Later head pages take the next most-lagging partitions
 * not yet sent; once the head is done, the rest follows by keyset in (topic, partition) order,
 * skipping the partitions whose hash was sent. A group that fits in one page is answered in
 * (topic, partition) order, as Kafscale's Go service does. A hash collision (about 2^-48 per pair)
 * could hide one partition; nothing else can.
 */
import type { OffsetRow } from "../store/index.js";
import type { CutFields, ListCut } from "./budget.js";
import { ToolError } from "./errors.js";
import type { OffsetSource } from "./offset-source.js";

/** Most partitions ordered by lag: one default page. */
export const HEAD_PARTITIONS = 100;
const HASH_BYTES = 6;

interface OffsetCursor {
  /** Hashes of the head partitions sent so far. */
  sent: Set<string>;
  /** True once the head is done: the rest follows in (topic, partition) order after `after`. */
  rest: boolean;
  after: [string, number] | null;
}

/**
 * 48 bits of cyrb53 (a fast, well-mixed, non-cryptographic string hash) of "topic/partition", as
 * base64url. Fast matters: every head row is hashed on every page.
 */
function partitionHash(topic: string, partition: number): string {
  const key = `${topic}/${partition}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const bytes = Buffer.alloc(HASH_BYTES);
  bytes.writeUInt16BE(h2 & 0xffff, 0);
  bytes.writeUInt32BE(h1 >>> 0, 2);
  return bytes.toString("base64url");
}

/** `<hashes>.<h|r>.<after>`: base64url pieces, so the cursor needs no escaping in JSON. */
function encode(cursor: OffsetCursor): string {
  const hashes = Buffer.concat([...cursor.sent].map((h) => Buffer.from(h, "base64url"))).toString("base64url");
  const after = cursor.after === null ? "" : Buffer.from(JSON.stringify(cursor.after)).toString("base64url");
  return `${hashes}.${cursor.rest ? "r" : "h"}.${after}`;
}

function decode(text: string): OffsetCursor {
  const invalid = new ToolError("invalid cursor", "pass next_cursor exactly as returned by the previous page, or omit it");
  const [hashes, phase, after, ...extra] = text.split(".");
  if (hashes === undefined || (phase !== "r" && phase !== "h") || after === undefined || extra.length > 0) throw invalid;
  const raw = Buffer.from(hashes, "base64url");
  if (raw.length % HASH_BYTES !== 0 || raw.length > HEAD_PARTITIONS * HASH_BYTES) throw invalid;
  const sent = new Set<string>();
  for (let i = 0; i < raw.length; i += HASH_BYTES) sent.add(raw.subarray(i, i + HASH_BYTES).toString("base64url"));
  let key: [string, number] | null = null;
  if (after !== "") {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(after, "base64url").toString("utf8"));
      if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || !Number.isInteger(parsed[1])) throw invalid;
      key = [parsed[0], parsed[1] as number];
    } catch {
      throw invalid;
    }
  }
  return { sent, rest: phase === "r", after: key };
}

export interface OffsetPage {
  offsets: OffsetRow[];
  /** Budget cut of `offsets`; its fields also say where the next page starts when nothing is cut. */
  cut: ListCut<OffsetRow>;
  /** Paging fields of the whole page. */
  fields: CutFields;
}

/** One page of the group's offsets from `source`, after `cursor` (the first page without one). */
export function offsetPage(source: OffsetSource, query: { cursor: string | undefined; limit: number }): OffsetPage {
  const { limit } = query;
  const total = source.total;
  const state: OffsetCursor =
    query.cursor === undefined || query.cursor === ""
      ? { sent: new Set(), rest: total <= limit, after: null }
      : decode(query.cursor);
  const unsent = (rows: OffsetRow[]): OffsetRow[] =>
    state.sent.size === 0 ? rows : rows.filter((r) => !state.sent.has(partitionHash(r.topic, r.partition)));

  const head: OffsetRow[] = [];
  let headDone = state.rest;
  if (!state.rest) {
    const want = Math.min(limit, HEAD_PARTITIONS - state.sent.size);
    head.push(...unsent(source.mostLagging(want + state.sent.size)).slice(0, want));
    headDone = head.length < want || state.sent.size + head.length >= HEAD_PARTITIONS;
  }

  const rest: OffsetRow[] = [];
  let restMore = false;
  const room = limit - head.length;
  if (headDone && room > 0) {
    // This page's head is left out exactly; earlier pages' head only by hash, so read that many more.
    const page = source.after(state.after, room + state.sent.size, head);
    const candidates = unsent(page.items);
    rest.push(...candidates.slice(0, room));
    restMore = candidates.length > room || page.next !== null;
  }

  /** The cursor after the first `kept` rows of this page (head rows come first). */
  const cursorAfter = (kept: number): OffsetCursor => {
    const headKept = head.slice(0, Math.min(kept, head.length));
    const restKept = rest.slice(0, Math.max(0, kept - head.length));
    const sent = new Set([...state.sent, ...headKept.map((r) => partitionHash(r.topic, r.partition))]);
    const lastRest = restKept[restKept.length - 1];
    if (lastRest) return { sent, rest: true, after: [lastRest.topic, lastRest.partition] };
    return { sent, rest: headKept.length === head.length && headDone, after: state.after };
  };
  const offsets = [...head, ...rest];
  // Without rest rows read on this page, what remains is every partition not sent in the head.
  const more = rest.length > 0 ? restMore : headDone ? total > state.sent.size + head.length && !state.rest : true;
  const fields: CutFields = more
    ? { truncated: true, next_cursor: encode(cursorAfter(offsets.length)) }
    : { truncated: false };
  return {
    offsets,
    fields,
    cut: {
      field: "offsets",
      after: (kept, leftOut) =>
        leftOut === 0 ? fields : { truncated: true, next_cursor: encode(cursorAfter(kept.length)), left_out: leftOut },
    },
  };
}
