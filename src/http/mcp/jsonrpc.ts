/**
 * JSON-RPC on /mcp: the one writer of JSON-RPC error responses (every refusal on /mcp uses it), and
 * reading the tool calls out of a parsed POST body (a JSON-RPC message or a batch of them).
 */
import type { Response } from "express";

/** Writes a JSON-RPC error object with an HTTP status (the transport spec's error responses). */
export function writeJsonRpcError(
  res: Response,
  status: number,
  code: number,
  message: string,
  options: { data?: unknown; id?: string | number | null } = {},
): void {
  const error = options.data === undefined ? { code, message } : { code, message, data: options.data };
  res.status(status).json({ jsonrpc: "2.0", error, id: options.id ?? null });
}

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
