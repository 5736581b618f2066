/**
 * Paging for consumer_lag: every group exactly once across pages, although statuses and lags change
 * between calls (the evaluator runs every sample interval).
 *
 * Keyset paging over a changing sort key cannot promise that: a group whose lag moves across the
 * cursor between two calls would be sent twice or never. So the first page is the top of the chosen
 * order, remembered by identity (the cursor carries a 48-bit hash of each group it sent), and later
 * pages list the remaining groups by group_id, which never changes. A hash collision (about 2^-48
 * per pair) could hide one group; nothing else can.
 */
import { createHash } from "node:crypto";
import type { GroupLag } from "../store/index.js";
import { ToolError } from "./errors.js";

const HASH_BYTES = 6;

/** The paging fields of a consumer_lag answer. */
export type LagPagingFields = { truncated: boolean; next_cursor?: string };

/** Where the groups of one query come from: the top of its order, and the rest by group_id. */
export interface GroupSource {
  sorted(limit: number): GroupLag[];
  after(after: string | null, limit: number): GroupLag[];
}

interface LagCursor {
  /** Identifies the query (sort and filters) the cursor belongs to. */
  query: string;
  /** Hashes of the groups the first page sent. */
  head: Set<string>;
  /** The last group_id sent after the first page. */
  after: string | null;
}

const hash = (text: string): Buffer => createHash("sha256").update(text).digest().subarray(0, HASH_BYTES);

/** A short tag of the query, so a cursor cannot be replayed against another one. */
export function queryTag(query: unknown): string {
  return hash(JSON.stringify(query)).toString("base64url");
}

function encode(cursor: LagCursor): string {
  const head = Buffer.concat([...cursor.head].map((h) => Buffer.from(h, "base64url"))).toString("base64url");
  const after = cursor.after === null ? "" : Buffer.from(cursor.after).toString("base64url");
  return `${cursor.query}.${head}.${after}`;
}

function decode(text: string, query: string): LagCursor {
  const invalid = new ToolError("invalid cursor", "pass next_cursor exactly as returned by the previous page, or omit it");
  const [tag, head, after, ...extra] = text.split(".");
  if (tag === undefined || head === undefined || after === undefined || extra.length > 0) throw invalid;
  if (tag !== query) {
    throw new ToolError("cursor from a different query", "pass the same group, topic, status, min_lag and sort as the first page");
  }
  const raw = Buffer.from(head, "base64url");
  if (raw.length % HASH_BYTES !== 0) throw invalid;
  const sent = new Set<string>();
  for (let i = 0; i < raw.length; i += HASH_BYTES) sent.add(raw.subarray(i, i + HASH_BYTES).toString("base64url"));
  return { query, head: sent, after: after === "" ? null : Buffer.from(after, "base64url").toString("utf8") };
}

/** One page of groups and its paging fields. */
export function lagPage(
  source: GroupSource,
  cursorText: string | undefined,
  limit: number,
  query: string,
): { groups: GroupLag[]; fields: LagPagingFields } {
  if (cursorText === undefined || cursorText === "") {
    const top = source.sorted(limit + 1);
    if (top.length <= limit) return { groups: top, fields: { truncated: false } };
    const groups = top.slice(0, limit);
    const head = new Set(groups.map((g) => hash(g.groupId).toString("base64url")));
    return { groups, fields: { truncated: true, next_cursor: encode({ query, head, after: null }) } };
  }
  const cursor = decode(cursorText, query);
  const rest = source
    .after(cursor.after, limit + cursor.head.size + 1)
    .filter((g) => !cursor.head.has(hash(g.groupId).toString("base64url")));
  const groups = rest.slice(0, limit);
  if (rest.length <= limit) return { groups, fields: { truncated: false } };
  const last = groups[groups.length - 1] as GroupLag;
  return { groups, fields: { truncated: true, next_cursor: encode({ ...cursor, after: last.groupId }) } };
}
