import { z } from "zod";
import type { TopicSummary } from "../store/index.js";
import { cursorSchema, decodeCursor, keysetCut, limitSchema, pagingFields, pagingOutput } from "./paging.js";
import { topicSummary } from "./schemas.js";
import { CuttableAnswer, defineTool } from "./tool.js";

export const listTopics = defineTool({
  name: "list_topics",
  title: "List topics",
  description:
    "Topic names and partition counts by name, 100 a page (~13 KB). Use to find topics.",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: () => ({ snapshot: true }),
  input: { limit: limitSchema(100, 10_000, "Topics"), cursor: cursorSchema },
  output: { topics: z.array(topicSummary), ...pagingOutput },
  handler: (ctx, args) => {
    const page = ctx.store.reads.listTopics(decodeCursor(args.cursor, z.string()), args.limit ?? 100);
    return new CuttableAnswer(
      { topics: page.items, ...pagingFields(page.next) },
      keysetCut<TopicSummary>("topics", (t) => t.name),
    );
  },
});
