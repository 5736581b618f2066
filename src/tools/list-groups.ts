import { z } from "zod";
import { cursorSchema, decodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { defineTool } from "./tool.js";

export const listGroups = defineTool({
  name: "list_groups",
  title: "List consumer groups",
  description: "List consumer groups",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ groupMetadata: { all: true } }),
  input: { limit: limitSchema(1000, 10_000), cursor: cursorSchema },
  output: {
    groups: z.array(
      z.object({ group_id: z.string(), state: z.string(), protocol_type: z.string(), member_count: z.number() }),
    ),
    ...pagingOutput,
  },
  handler: (ctx, args) => {
    const page = ctx.store.reads.listGroups(decodeCursor(args.cursor, z.string()), args.limit ?? 1000);
    return { groups: page.items, ...pagingFields(page.next) };
  },
});
