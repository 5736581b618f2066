import { z } from "zod";
import { cursorSchema, decodeCursor, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { topicSummary } from "./schemas.js";
import { defineTool } from "./tool.js";

export const listTopics = defineTool({
  name: "list_topics",
  title: "List topics",
  description: "List topics and partition counts",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ snapshot: true }),
  input: { limit: limitSchema(1000, 10_000), cursor: cursorSchema },
  output: { topics: z.array(topicSummary), ...pagingOutput },
  handler: (ctx, args) => {
    const page = ctx.store.reads.listTopics(decodeCursor(args.cursor, z.string()), args.limit ?? 1000);
    return { topics: page.items, ...pagingFields(page.next) };
  },
});
