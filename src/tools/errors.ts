/**
 * Errors an agent can act on. A ToolError becomes an `isError` tool result whose text says what went
 * wrong and what to do; anything else is logged and answered with a generic message, so internal
 * details (stack traces, etcd hostnames, SQL) never reach an agent.
 */
export class ToolError extends Error {
  /**
   * @param status the HTTP status the REST API answers with (400 bad request, 404 not found,
   *   503 not available yet); MCP clients see an `isError` result whatever it is.
   */
  constructor(
    message: string,
    readonly hint?: string,
    readonly status: 400 | 404 | 503 = 400,
  ) {
    super(message);
    this.name = "ToolError";
  }

  /** The text an agent sees. */
  get text(): string {
    return this.hint ? `${this.message}. Hint: ${this.hint}` : this.message;
  }
}

/**
 * The snapshot has no data yet: the first full etcd sync is still running, or etcd cannot be
 * reached (`unreachable`: "etcd cannot be reached since …: reason", see etcdUnreachable).
 */
export function notReady(revision: number, unreachable: string | null = null): ToolError {
  if (unreachable !== null) {
    return new ToolError(
      `snapshot not ready: ${unreachable}`,
      "the service keeps retrying by itself; check that etcd is up and the KAFSCALE_MCP_ETCD_* settings; " +
        "/readyz turns 200 when the first sync is done",
      503,
    );
  }
  return new ToolError(
    `snapshot not ready: initial etcd sync in progress (rev ${revision})`,
    "retry in a few seconds; /readyz turns 200 when the first sync is done",
    503,
  );
}

/** One or more requested topics are not in the snapshot. */
export function unknownTopics(names: string[]): ToolError {
  const list = names.map((t) => `"${t}"`).join(", ");
  return new ToolError(`unknown topic${names.length > 1 ? "s" : ""} ${list}`, "list_topics shows the known topics", 404);
}

/** The consumer group has neither metadata nor committed offsets. */
export function unknownGroup(groupId: string): ToolError {
  return new ToolError(`consumer group "${groupId}" not found`, "list_groups shows the known groups", 404);
}
