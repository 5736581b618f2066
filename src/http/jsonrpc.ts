/** Reading the tool calls out of a parsed /mcp POST body (a JSON-RPC message or a batch of them). */

/** One `tools/call` request in a body. */
export interface ToolCallRequest {
  /** The JSON-RPC id (null for a malformed message without one). */
  id: string | number | null;
  /** The tool named in `params.name`; "" when missing. */
  name: string;
  arguments: unknown;
}

/** Every `tools/call` request in `body`, in order. */
export function toolCallsIn(body: unknown): ToolCallRequest[] {
  const messages = Array.isArray(body) ? body : [body];
  const calls: ToolCallRequest[] = [];
  for (const message of messages) {
    if (typeof message !== "object" || message === null) continue;
    const m = message as { method?: unknown; id?: unknown; params?: { name?: unknown; arguments?: unknown } };
    if (m.method !== "tools/call") continue;
    calls.push({
      id: typeof m.id === "string" || typeof m.id === "number" ? m.id : null,
      name: typeof m.params?.name === "string" ? m.params.name : "",
      arguments: m.params?.arguments ?? {},
    });
  }
  return calls;
}
