import { z } from "zod";
import { parseGoDuration } from "../duration.js";
import { CHANGE_KINDS } from "../kafscale/change-events.js";
import type { ChangeEventRow, ChangeFilter } from "../store/index.js";
import { ToolError } from "./errors.js";
import { inProse } from "./json-schema.js";
import { cursorSchema, decodeCursor, keysetCut, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { groupId, topicName } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `since` as a filter: a bare number is a revision, else an RFC 3339 time, else a duration back from now. */
export function parseSince(text: string, now: number): Pick<ChangeFilter, "afterRevision" | "sinceAt"> {
  const value = text.trim();
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return { afterRevision: Number(value) };
  if (RFC3339.test(value)) {
    const at = Date.parse(value);
    if (Number.isFinite(at)) return { sinceAt: at };
  }
  try {
    return { sinceAt: now - parseGoDuration(value) };
  } catch {
    throw new ToolError(
      `invalid since "${text.slice(0, 64)}"`,
      'give an etcd revision (e.g. "4711"), an RFC 3339 time ("2026-11-24T08:00:00Z") or a duration back from now ("15m", "24h")',
    );
  }
}

const change = z.object({
  revision: z.number().describe("etcd revision of the change (for a resync: the revision it read)"),
  at: z.string().describe("when the service applied (watch) or found (resync) the change"),
  kind: z.enum(CHANGE_KINDS),
  source: z.enum(["watch", "resync"]).describe("resync: found by comparing a full re-read after a gap"),
  topic: z.string().nullable(),
  group_id: z.string().nullable(),
  partition: z.number().nullable(),
  broker_id: z.number().nullable(),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()).describe("old and new values; fields depend on kind"),
});

export const recentChanges = defineTool({
  name: "recent_changes",
  title: "Recent changes",
  description:
    "What changed in the cluster, newest first: topics, partitions, configs (old → new), groups, rebalances, members, " +
    "brokers, leaders. Use it first when something broke; reads the local change log, pages with cursor.",
  scope: "observe",
  needsSnapshot: true,
  input: {
    since: z
      .string()
      .max(64)
      .optional()
      .describe('Only changes after this: an etcd revision ("4711"), an RFC 3339 time, or a duration back from now ("15m")'),
    kinds: z.array(z.enum(CHANGE_KINDS)).max(CHANGE_KINDS.length).optional().describe("Only these kinds"),
    topic: topicName.optional().describe("Only changes of this topic"),
    group: groupId.optional().describe("Only changes of this consumer group"),
    limit: limitSchema(100, 1000),
    cursor: cursorSchema,
  },
  output: {
    changes: inProse(
      z.array(change),
      "newest first; each: revision (etcd; a resync's own), at, kind, source (watch | resync), topic, group_id, " +
        "partition, broker_id (null unless about one), summary (one line), details (old → new values by kind)",
    ),
    ...pagingOutput,
    complete: z
      .boolean()
      .nullable()
      .describe("with since: false when since reaches past the kept history (then a notice)"),
    retained_after_revision: z.number().nullable().describe("history kept after this revision"),
    retained_after: z.string().nullable().describe("history kept after this time"),
    notice: z.string().optional(),
  },
  handler: (ctx, args) => {
    const filter: ChangeFilter = {
      ...(args.since === undefined ? {} : parseSince(args.since, ctx.now())),
      ...(args.kinds && args.kinds.length > 0 ? { kinds: args.kinds } : {}),
      ...(args.topic === undefined ? {} : { topic: args.topic }),
      ...(args.group === undefined ? {} : { groupId: args.group }),
      limit: args.limit ?? 100,
    };
    const beforeId = decodeCursor(args.cursor, z.number().int().positive());
    if (beforeId !== null) filter.beforeId = beforeId;
    const page = ctx.store.changes.recent(filter);
    const { completeAfterRevision: revision, completeAfterAt: at } = page.window;
    let complete: boolean | null = null;
    if (filter.afterRevision !== undefined) complete = revision !== null && filter.afterRevision >= revision;
    if (filter.sinceAt !== undefined) complete = at !== null && filter.sinceAt >= at;
    const changes = page.items.map((e) => ({
      revision: e.revision,
      at: iso(e.at) as string,
      kind: e.kind as (typeof CHANGE_KINDS)[number],
      source: e.source,
      topic: e.topic,
      group_id: e.group_id,
      partition: e.partition,
      broker_id: e.broker_id,
      summary: e.summary,
      details: e.details,
    }));
    // The result budget may end the page early: the next one starts below the last event kept.
    const ids = new Map(changes.map((c, i) => [c, (page.items[i] as ChangeEventRow).id]));
    const answer = {
      changes,
      ...pagingFields(page.next),
      complete,
      retained_after_revision: revision,
      retained_after: iso(at),
      ...(complete === false
        ? {
            notice:
              `since reaches back past the kept history: changes up to revision ${revision ?? "?"} (${iso(at) ?? "?"}) ` +
              "may be missing (KAFSCALE_MCP_EVENTS_RETENTION, KAFSCALE_MCP_EVENTS_LIMIT, or before the service's first sync)",
          }
        : {}),
    };
    return new CuttableAnswer(answer, keysetCut<(typeof changes)[number]>("changes", (c) => ids.get(c)));
  },
});
