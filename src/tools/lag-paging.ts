/**
 * Paging for consumer_lag: every group exactly once across pages, although statuses and lags change
 * between calls (the evaluator runs every sample interval).
 *
 * Keyset paging over a changing sort key cannot promise that: a group whose lag moves across the
 * cursor between two calls would be sent twice or never. So the first page is the top of the chosen
 * order, remembered by identity (the cursor carries a 48-bit hash of each group it sent), and later
 * pages list the remaining groups by group_id, which never changes. A hash collision (about 2^-48
 * per pair) could hide one group; nothing else can. When the result budget (budget.ts) ends a page
 * early, its cut builds the cursor from the groups actually sent, so paging still resumes exactly.
 */
import { createHash } from "node:crypto";
import type { GroupLag } from "../store/index.js";
import type { ListCut } from "./budget.js";
import { ToolError } from "./errors.js";

const HASH_BYTES = 6;

/** The paging fields of a consumer_lag answer. */
export type LagPagingFields = { truncated: boolean; next_cursor?: string };

/** An item of the answer's `groups` list, as far as paging needs it. */
interface SentGroup {
  group_id: string;
}

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

/** One page of groups, its paging fields, and the budget cut of the answer's `groups` list. */
export function lagPage(
  source: GroupSource,
  cursorText: string | undefined,
  limit: number,
  query: string,
): { groups: GroupLag[]; fields: LagPagingFields; cut: ListCut<SentGroup> } {
  if (cursorText === undefined || cursorText === "") {
    // The first page: the cursor remembers the groups sent, whichever prefix of the top that is.
    const cut = cutAfter((kept) => ({ query, head: new Set(kept.map((g) => hashOf(g.group_id))), after: null }));
    const top = source.sorted(limit + 1);
    if (top.length <= limit) return { groups: top, fields: { truncated: false }, cut };
    const groups = top.slice(0, limit);
    return { groups, fields: nextFields(cut, groups), cut };
  }
  const cursor = decode(cursorText, query);
  // Later pages: the head stays as it was; the next page starts after the last group sent.
  const cut = cutAfter((kept) => ({ ...cursor, after: (kept[kept.length - 1] as SentGroup).group_id }));
  const rest = source
    .after(cursor.after, limit + cursor.head.size + 1)
    .filter((g) => !cursor.head.has(hashOf(g.groupId)));
  const groups = rest.slice(0, limit);
  if (rest.length <= limit) return { groups, fields: { truncated: false }, cut };
  return { groups, fields: nextFields(cut, groups), cut };
}

const hashOf = (groupId: string): string => hash(groupId).toString("base64url");

/** The cut whose cursor, after the groups `kept`, is `cursorAfter(kept)`. */
function cutAfter(cursorAfter: (kept: readonly SentGroup[]) => LagCursor): ListCut<SentGroup> {
  return {
    field: "groups",
    after: (kept, leftOut) => ({ truncated: true, next_cursor: encode(cursorAfter(kept)), left_out: leftOut }),
  };
}

/** The paging fields of a full page with more groups after it. */
function nextFields(cut: ListCut<SentGroup>, groups: readonly GroupLag[]): LagPagingFields {
  const { truncated, next_cursor } = cut.after(groups.map((g) => ({ group_id: g.groupId })), 0) as LagPagingFields;
  return { truncated, next_cursor };
}
