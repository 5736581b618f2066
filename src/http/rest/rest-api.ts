/**
 * /api/v1: the same answers as the MCP tools, as plain JSON over GET, for dashboards. Every route is
 * one tool definition with its arguments taken from the path and query string, so MCP and dashboards
 * always agree; the same scopes, allow-list, rate limit and audit trail apply as on /mcp.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { Logger } from "../../log.js";
import type { ToolContext } from "../../tools/context.js";
import { clusterMetrics } from "../../tools/cluster-metrics.js";
import { clusterStatus } from "../../tools/cluster-status.js";
import { consumerLag } from "../../tools/consumer-lag.js";
import { describeConfigs } from "../../tools/describe-configs.js";
import { describeGroup } from "../../tools/describe-group.js";
import { describeTopics } from "../../tools/describe-topics.js";
import { fetchOffsets } from "../../tools/fetch-offsets.js";
import { selectTools } from "../../tools/index.js";
import { lagHistory } from "../../tools/lag-history.js";
import { listGroups } from "../../tools/list-groups.js";
import { listTopics } from "../../tools/list-topics.js";
import { recentChanges } from "../../tools/recent-changes.js";
import type { CallContext, Principal } from "../../tools/call-context.js";
import { runReported, type AnyToolDefinition, type ToolCallEvent } from "../../tools/tool.js";
import { principalOf } from "../auth/principal.js";
import { issuesText } from "../issues.js";
import { limitKeyOf, type RateLimiter } from "../rate-limit.js";
import { remoteAddrOf, type HttpDenial } from "../request-facts.js";
import { requestIdOf } from "../request-id.js";

export interface RestApiOptions {
  ctx: ToolContext;
  logger: Logger;
  enabledTools: readonly string[];
  limiter: RateLimiter | null;
  onToolCall(event: ToolCallEvent): void;
  deny(denial: HttpDenial): void;
}

type ArgsOf = (req: Request) => Record<string, unknown>;
/** For a route about one named thing: the 404 text when the tool's answer says it does not exist. */
type MissingOf = (req: Request, body: Record<string, unknown>) => string | null;

const list = (value: unknown): string[] | undefined =>
  typeof value === "string" && value !== "" ? value.split(",").map((s) => s.trim()) : undefined;
const int = (value: unknown): number | string | undefined =>
  typeof value === "string" && /^\d+$/.test(value) ? Number(value) : (value as string | undefined);
/**
 * Page sizes when a dashboard names none: the ones /api/v1 always had. MCP tools default to
 * agent-sized pages (about 100 items); REST answers are bounded by their own, larger result budget
 * (KAFSCALE_MCP_REST_MAX_RESULT_BYTES) instead.
 */
const REST_PAGE = { topics: 1000, groups: 1000, offsets: 5000, configs: 10_000, lag: 100, changes: 100 } as const;

const paging = (req: Request, fallback: number): Record<string, unknown> => ({
  limit: int(req.query.limit) ?? fallback,
  cursor: req.query.cursor,
});

/** Kafka's UNKNOWN_TOPIC_OR_PARTITION: describe_topics answers an unknown name with it, as Kafka does. */
const UNKNOWN_TOPIC = 3;
/** One named topic's route says 404 for it. */
const topicMissing: MissingOf = (req, body) =>
  (body.topics as { error_code: number }[] | undefined)?.[0]?.error_code === UNKNOWN_TOPIC
    ? `topic "${req.params.name}" not found. Hint: list_topics shows the known topics`
    : null;

/** Route → tool (by reference, so a renamed tool cannot leave a dead route) and how its arguments are read. */
interface Route {
  path: string;
  tool: AnyToolDefinition;
  args: ArgsOf;
  query: string[];
  missing?: MissingOf;
  /** A REST-only definition is permitted to whoever may call this MCP tool. */
  permittedAs?: string;
}

const ROUTES: Route[] = [
  {
    path: "/cluster",
    tool: clusterStatus,
    args: (r) => ({ topic_limit: int(r.query.topic_limit) ?? REST_PAGE.topics }),
    query: ["topic_limit"],
  },
  { path: "/cluster/metrics", tool: clusterMetrics, args: () => ({}), query: [] },
  { path: "/topics", tool: listTopics, args: (r) => paging(r, REST_PAGE.topics), query: ["limit", "cursor"] },
  {
    path: "/topics/:name",
    tool: describeTopics,
    args: (r) => ({ names: [r.params.name], cursor: r.query.cursor }),
    query: ["cursor"],
    missing: topicMissing,
  },
  { path: "/groups", tool: listGroups, args: (r) => paging(r, REST_PAGE.groups), query: ["limit", "cursor"] },
  { path: "/groups/:group", tool: describeGroup, args: (r) => ({ group_id: r.params.group }), query: [] },
  {
    path: "/groups/:group/offsets",
    tool: fetchOffsets,
    args: (r) => ({ group_id: r.params.group, topics: list(r.query.topics), ...paging(r, REST_PAGE.offsets) }),
    query: ["topics", "limit", "cursor"],
  },
  {
    path: "/groups/:group/history",
    tool: lagHistory,
    args: (r) => ({ group_id: r.params.group }),
    query: [],
    permittedAs: consumerLag.name,
  },
  {
    path: "/configs",
    tool: describeConfigs,
    args: (r) => ({ topics: list(r.query.topics), ...paging(r, REST_PAGE.configs) }),
    query: ["topics", "limit", "cursor"],
  },
  {
    path: "/lag",
    tool: consumerLag,
    args: (r) => ({
      group: r.query.group,
      topic: r.query.topic,
      status: r.query.status,
      min_lag: int(r.query.min_lag),
      sort: r.query.sort,
      ...paging(r, REST_PAGE.lag),
    }),
    query: ["group", "topic", "status", "min_lag", "sort", "limit", "cursor"],
  },
  {
    path: "/changes",
    tool: recentChanges,
    args: (r) => ({
      since: r.query.since,
      kinds: list(r.query.kinds),
      topic: r.query.topic,
      group: r.query.group,
      ...paging(r, REST_PAGE.changes),
    }),
    query: ["since", "kinds", "topic", "group", "limit", "cursor"],
  },
];

/** Drops undefined values, so optional arguments are really absent. */
function defined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}

/** Builds the router; mount it behind the Host guard and authentication. */
export function createRestApi(options: RestApiOptions): Router {
  const router = Router();
  for (const route of ROUTES) {
    const def = route.tool;
    const schema = z.object(def.input).strict();
    router.get(route.path, async (req: Request, res: Response) => {
      const principal = principalOf(req) as Principal;
      const fail = (status: number, error: string, reason: string, args?: unknown): void => {
        options.deny({ req, reason, status, principal, tool: def.name, args });
        res.status(status).json({ error });
      };
      const permission = route.permittedAs ?? def.name;
      if (!selectTools(principal.scopes, options.enabledTools).some((t) => t.name === permission)) {
        return fail(403, `tool ${def.name} is not permitted for this caller`, "tool not permitted");
      }
      const extra = Object.keys(req.query).filter((k) => !route.query.includes(k));
      if (extra.length > 0) {
        return fail(400, `unknown query parameter${extra.length > 1 ? "s" : ""}: ${extra.join(", ")}`, "invalid arguments");
      }
      const parsed = schema.safeParse(defined(route.args(req)));
      if (!parsed.success) {
        return fail(400, `invalid arguments: ${issuesText(parsed.error.issues, "(arguments)")}`, "invalid arguments", route.args(req));
      }
      const decision = options.limiter?.take(limitKeyOf(principal, remoteAddrOf(req)), 1) ?? { ok: true as const };
      if (!decision.ok) {
        res.setHeader("Retry-After", String(decision.retryAfterSeconds));
        return fail(429, `rate limit exceeded: ${options.limiter?.description}`, "rate limit exceeded", parsed.data);
      }
      const context: CallContext = {
        principal,
        transport: "rest",
        requestId: requestIdOf(req),
        remoteAddr: remoteAddrOf(req),
        sessionId: null,
      };
      const run = await runReported(def, options.ctx, parsed.data, {
        context,
        rpcId: null,
        logger: options.logger,
        onToolCall: options.onToolCall,
      });
      if (run.outcome === "ok") {
        const body = run.result.structuredContent as Record<string, unknown>;
        const missing = route.missing?.(req, body) ?? null;
        if (missing !== null) res.status(404).json({ error: missing });
        else res.status(200).json(body);
        return;
      }
      const text = (run.result.content[0] as { text?: string } | undefined)?.text ?? "error";
      res.status(run.status).json({ error: text });
    });
  }
  router.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} /api/v1${req.path}` });
  });
  // Express refuses a path segment it cannot percent-decode with a 400 error; say so, in this API's shape.
  router.use((err: Error & { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.status === 400) {
      res.status(400).json({ error: "malformed URL: a path segment is not valid percent-encoding (encode names as UTF-8)" });
      return;
    }
    options.logger.error("rest error", { error: err.message });
    res.status(500).json({ error: "internal error; the service log has details" });
  });
  return router;
}
