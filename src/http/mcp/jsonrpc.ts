/**
 * JSON-RPC on /mcp: the one writer of JSON-RPC error responses (every refusal on /mcp uses it), and
 * reading the requests out of a parsed POST body (a JSON-RPC message or a batch of them).
 */
import type { Response } from "express";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { issuesText } from "../issues.js";

/** JSON-RPC 2.0 error codes used on /mcp. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  invalidParams: -32602,
  internalError: -32603,
  /** Implementation-defined server errors (refusals: rate limit, session cap, auth). */
  serverError: -32000,
} as const;

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

interface RpcMessage {
  method?: unknown;
  id?: unknown;
  params?: { name?: unknown; arguments?: unknown };
}

/** The objects of a body: the message, or the members of a batch. */
function messagesIn(body: unknown): RpcMessage[] {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.filter((m): m is RpcMessage => typeof m === "object" && m !== null);
}

const idOf = (m: RpcMessage): string | number | null => (typeof m.id === "string" || typeof m.id === "number" ? m.id : null);

/** Every `tools/call` request in `body`, in order. */
export function toolCallsIn(body: unknown): ToolCallRequest[] {
  return messagesIn(body)
    .filter((m) => m.method === "tools/call")
    .map((m) => ({
      id: idOf(m),
      name: typeof m.params?.name === "string" ? m.params.name : "",
      arguments: m.params?.arguments ?? {},
    }));
}

/** How many `initialize` requests `body` holds (they count against the rate limit). */
export function initializeCount(body: unknown): number {
  return messagesIn(body).filter((m) => m.method === "initialize").length;
}

/**
 * The first `tools/call` whose params the SDK would refuse to parse (it answers those with -32603
 * "Internal error" and a validation dump): its id and what is wrong, for a -32602 of our own.
 */
export function malformedToolCallIn(body: unknown): { id: string | number | null; detail: string } | null {
  for (const m of messagesIn(body)) {
    if (m.method !== "tools/call") continue;
    const parsed = CallToolRequestSchema.safeParse(m);
    if (!parsed.success) return { id: idOf(m), detail: issuesText(parsed.error.issues, "(message)") };
  }
  return null;
}
