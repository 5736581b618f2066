import { z } from "zod";
import { GROUP_STATUSES, judgedTimeLag, TRENDS } from "../kafscale/lag-status.js";
import { unknownGroup } from "./errors.js";
import { inProse } from "./json-schema.js";
import { indexVerdicts, isoOf, partitionLagFields, partitionStatusSchema } from "./lag-fields.js";
import { groupId } from "./schemas.js";
import { defineTool } from "./tool.js";

const member = z.object({
  member_id: z.string(),
  client_id: z.string(),
  client_host: z.string(),
  heartbeat_at: z.string(),
  assignments: z.array(
    z.object({
      topic: z.string(),
      partitions: z.array(z.number()),
      status: z.array(partitionStatusSchema.nullable()).describe("lag status per entry of partitions"),
      time_lag_seconds: z.array(z.number().nullable()).describe("time lag per entry of partitions"),
    }),
  ),
  subscriptions: z.array(z.string()),
  session_timeout_ms: z.number(),
});

export const describeGroup = defineTool({
  name: "describe_group",
  title: "Describe group",
  description:
    "A group's state, protocol, generation, leader, members, their partitions and lag status. Use to see who " +
    "consumes what or why it rebalances.",
  scope: "observe",
  needsSnapshot: true,
  dependsOn: (args) => ({ groupMetadata: args.group_id }),
  input: { group_id: groupId },
  output: {
    group_id: z.string(),
    state: z.string(),
    protocol_type: z.string(),
    protocol: z.string(),
    leader: z.string(),
    generation_id: z.number(),
    rebalance_timeout_ms: z.number(),
    members: inProse(
      z.array(member),
      "member_id, client_id, client_host, heartbeat_at, assignments [{topic, partitions, status, time_lag_seconds " +
        "(per partition; null: not judged)}], subscriptions, session_timeout_ms",
    ),
    has_metadata: z.boolean().describe("false: known only from offsets"),
    lag: inProse(
      z
        .object({
          status: z.enum(GROUP_STATUSES),
          total_lag: z.number(),
          time_lag_seconds: z.number().nullable(),
          trend: z.enum(TRENDS),
          evaluated_at: z.string(),
        })
        .nullable(),
      "status, total_lag, time_lag_seconds, trend, evaluated_at as in consumer_lag; null: not judged",
    ),
  },
  handler: (ctx, args) => {
    const group = ctx.store.reads.describeGroup(args.group_id);
    if (!group) {
      throw unknownGroup(args.group_id);
    }
    const now = ctx.now();
    const lagReads = ctx.store.lag.reads;
    const verdicts = indexVerdicts(lagReads.partitionStatuses(args.group_id));
    const members = group.members.map((m) => ({
      ...m,
      assignments: m.assignments.map((a) => {
        const fields = a.partitions.map((p) => partitionLagFields(verdicts, a.topic, p, now));
        return { ...a, status: fields.map((f) => f.status), time_lag_seconds: fields.map((f) => f.time_lag_seconds) };
      }),
    }));
    const summary = lagReads.sortedGroups({ group: args.group_id }, "lag", 1)[0];
    return {
      ...group,
      members,
      lag:
        summary === undefined
          ? null
          : {
              status: summary.status,
              total_lag: summary.totalLag,
              time_lag_seconds: judgedTimeLag(summary.status, summary.totalLag, summary.behindSince, now),
              trend: summary.trend,
              evaluated_at: isoOf(summary.evaluatedAt),
            },
    };
  },
});
