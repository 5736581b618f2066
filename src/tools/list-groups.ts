import { z } from "zod";
import type { GroupSummary } from "../store/index.js";
import { cursorSchema, decodeCursor, keysetCut, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { CuttableAnswer, defineTool } from "./tool.js";

export const listGroups = defineTool({
  name: "list_groups",
  title: "List groups",
  description:
    "Consumer groups (also those known only from offsets) with state and member count, 100 a page (~22 KB). " +
    "Use to find a group.",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ groupMetadata: { all: true } }),
  input: { limit: limitSchema(100, 10_000, "Groups"), cursor: cursorSchema },
  output: {
    groups: z.array(
      z.object({ group_id: z.string(), state: z.string(), protocol_type: z.string(), member_count: z.number() }),
    ),
    ...pagingOutput,
  },
  handler: (ctx, args) => {
    const page = ctx.store.reads.listGroups(decodeCursor(args.cursor, z.string()), args.limit ?? 100);
    return new CuttableAnswer(
      { groups: page.items, ...pagingFields(page.next) },
      keysetCut<GroupSummary>("groups", (g) => g.group_id),
    );
  },
});
