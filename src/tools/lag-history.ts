/**
 * A group's total lag over the kept window, as points for a chart. Served on REST only
 * (/api/v1/groups/{group}/history, the web view's charts): an agent is better served by
 * consumer_lag's trend and velocity than by a series of numbers, so it is not in the MCP tool list;
 * it is permitted to whoever may call consumer_lag.
 */
import { z } from "zod";
import { windowSpanMs } from "../kafscale/lag-status.js";
import { unknownGroup } from "./errors.js";
import { isoOf } from "./lag-fields.js";
import { groupId } from "./schemas.js";
import { defineTool } from "./tool.js";

/** Points per answer: more than a chart's width in pixels buys nothing (about 30 KB of JSON). */
export const MAX_HISTORY_POINTS = 1000;

export const lagHistory = defineTool({
  name: "lag_history",
  title: "A group's lag over the window",
  description:
    "A consumer group's total lag at every kept moment of the lag window, oldest first, for charts. " +
    `At most ${MAX_HISTORY_POINTS} points (thinned evenly, the newest kept).`,
  scope: "observe",
  needsSnapshot: true,
  input: { group_id: groupId },
  output: {
    group_id: z.string(),
    window_seconds: z.number().describe("the window kept: sample interval × points"),
    points: z
      .array(
        z.object({
          at: z.string(),
          lag: z.number().describe("total lag of the partitions known at that moment"),
          partitions: z.number().describe("partitions with both an end offset and a commit in the window by then"),
        }),
      )
      .describe("oldest first; empty until the group has history"),
  },
  handler: (ctx, args) => {
    if (!ctx.store.reads.groupExists(args.group_id)) throw unknownGroup(args.group_id);
    const { lag } = ctx.store;
    return {
      group_id: args.group_id,
      window_seconds: windowSpanMs(lag.settings) / 1000,
      points: lag.chart
        .groupHistory(args.group_id, MAX_HISTORY_POINTS)
        .map((p) => ({ at: isoOf(p.at), lag: p.lag, partitions: p.partitions })),
    };
  },
});
