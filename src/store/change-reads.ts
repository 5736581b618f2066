/**
 * The change feed's read side: recent semantic change events, newest first, filtered and paged by
 * event id, with the point from which the feed is complete (for "since reaches past what is kept").
 */
import type { Db } from "./database.js";

export interface ChangeEventRow {
  /** Increases with every event written; the paging key. */
  id: number;
  revision: number;
  /** Unix ms the service applied (watch) or found (resync) the change. */
  at: number;
  kind: string;
  source: "watch" | "resync";
  topic: string | null;
  group_id: string | null;
  partition: number | null;
  broker_id: number | null;
  summary: string;
  details: Record<string, unknown>;
}

export interface ChangeFilter {
  /** Only events after this revision. */
  afterRevision?: number;
  /** Only events applied at or after this time (Unix ms). */
  sinceAt?: number;
  kinds?: readonly string[];
  topic?: string;
  groupId?: string;
  /** Paging: only events with an id below this one. */
  beforeId?: number;
  limit: number;
}

/** From where the events table holds every change: after this revision and this time (null: not yet). */
export interface FeedWindow {
  completeAfterRevision: number | null;
  completeAfterAt: number | null;
}

export interface ChangePage {
  items: ChangeEventRow[];
  /** The id to pass as `beforeId` for the next page; null at the end. */
  next: number | null;
  window: FeedWindow;
}

export interface ChangeReads {
  /** Events matching `filter`, newest first, one page, read in one transaction with the feed window. */
  recent(filter: ChangeFilter): ChangePage;
}

type RawRow = Omit<ChangeEventRow, "details"> & { details: string };

/** Prepares the feed window statement; the page statements are built per filter combination, once each. */
export function createChangeReads(db: Db): ChangeReads {
  const window = db.prepare<[], { complete_after_revision: number | null; complete_after_at: number | null }>(
    "SELECT complete_after_revision, complete_after_at FROM event_feed WHERE id = 1",
  );
  const statements = new Map<string, ReturnType<Db["prepare"]>>();
  // Filters become fixed SQL (one statement per combination of filters present), so the planner can
  // use the topic/group indexes; the values are always bound parameters.
  const pageStatement = (filter: ChangeFilter): ReturnType<Db["prepare"]> => {
    const where: string[] = [];
    if (filter.beforeId !== undefined) where.push("id < @beforeId");
    if (filter.afterRevision !== undefined) where.push("revision > @afterRevision");
    if (filter.sinceAt !== undefined) where.push("at >= @sinceAt");
    if (filter.kinds !== undefined) where.push("kind IN (SELECT value FROM json_each(@kinds))");
    if (filter.topic !== undefined) where.push("topic = @topic");
    if (filter.groupId !== undefined) where.push("group_id = @groupId");
    const sql =
      "SELECT id, revision, at, kind, source, topic, group_id, partition, broker_id, summary, details FROM events" +
      (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
      " ORDER BY id DESC LIMIT @limit";
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const recent = db.transaction((filter: ChangeFilter): ChangePage => {
    const params: Record<string, unknown> = { limit: filter.limit + 1 };
    if (filter.beforeId !== undefined) params.beforeId = filter.beforeId;
    if (filter.afterRevision !== undefined) params.afterRevision = filter.afterRevision;
    if (filter.sinceAt !== undefined) params.sinceAt = filter.sinceAt;
    if (filter.kinds !== undefined) params.kinds = JSON.stringify(filter.kinds);
    if (filter.topic !== undefined) params.topic = filter.topic;
    if (filter.groupId !== undefined) params.groupId = filter.groupId;
    const rows = (pageStatement(filter).all(params) as RawRow[]).map(
      (r): ChangeEventRow => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }),
    );
    const w = window.get();
    const items = rows.slice(0, filter.limit);
    return {
      items,
      next: rows.length > filter.limit ? (items.at(-1) as ChangeEventRow).id : null,
      window: { completeAfterRevision: w?.complete_after_revision ?? null, completeAfterAt: w?.complete_after_at ?? null },
    };
  });

  return { recent: (filter) => recent(filter) };
}
