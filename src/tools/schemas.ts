/** Input pieces shared by several tools: names are bounded so a request cannot ask for unbounded work. */
import { z } from "zod";

export const topicName = z.string().min(1).max(249);
export const groupId = z.string().min(1).max(1024).describe("Consumer group id");

/** Optional topic list; null or [] means "all", as in Kafscale's Go service. */
export const topicList = (description: string) => z.array(topicName).max(1000).nullable().optional().describe(description);

/** Treats null, undefined and [] alike: no filter. */
export function filterOf(list: string[] | null | undefined): string[] | null {
  return list && list.length > 0 ? list : null;
}

export const topicSummary = z.object({ name: z.string(), partition_count: z.number(), error_code: z.number() });
