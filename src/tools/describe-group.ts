import { z } from "zod";
import { unknownGroup } from "./errors.js";
import { inProse } from "./json-schema.js";
import { groupId } from "./schemas.js";
import { defineTool } from "./tool.js";

const member = z.object({
  member_id: z.string(),
  client_id: z.string(),
  client_host: z.string(),
  heartbeat_at: z.string(),
  assignments: z.array(z.object({ topic: z.string(), partitions: z.array(z.number()) })),
  subscriptions: z.array(z.string()),
  session_timeout_ms: z.number(),
});

export const describeGroup = defineTool({
  name: "describe_group",
  title: "Describe group",
  description:
    "A group's state, protocol, generation, leader, members and their partitions. Use to see who consumes " +
    "what or why it rebalances; lag is in fetch_offsets.",
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
      "member_id, client_id, client_host, heartbeat_at, assignments [{topic, partitions}], subscriptions, session_timeout_ms",
    ),
    has_metadata: z.boolean().describe("false: known only from its offsets"),
  },
  handler: (ctx, args) => {
    const group = ctx.store.reads.describeGroup(args.group_id);
    if (!group) {
      throw unknownGroup(args.group_id);
    }
    return group;
  },
});
