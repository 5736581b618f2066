/**
 * The freshness prober's MCP client: one session over streamable HTTP with node:http and one
 * kept-alive socket; `tools/call` is a plain POST whose answer (a JSON body, or the SSE event that
 * carries the response) is parsed here. Same requests on the wire as the SDK client's (initialize,
 * the initialized notification, then tools/call with the session id and protocol version headers),
 * without its machinery.
 *
 * Why not the SDK client (bench/lib/mcp.ts, which the latency matrix keeps): the prober shares the
 * machine's two cores with etcd, the writer and the service under test, and through the SDK (undici
 * fetch, the transport's stream parsing, zod on every message) a poll cost the prober about 3 ms of
 * CPU: 0.19–0.21 of a core at 64–67 polls/s over the 2,000 writes/s window, against 0.07–0.09 with
 * this client (2026-11-27, run-queue.ts; docs/BENCHMARKS.md) — CPU the service under test waited
 * for. The same reasoning moved the writer's puts off etcd3 (raw-etcd-put.ts).
 */
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import type { CallOutcome } from "./mcp.js";

const PROTOCOL_VERSION = "2025-06-18";

export interface BareSession {
  call(tool: string, args: Record<string, unknown>): Promise<CallOutcome>;
  /** Ends the session (DELETE) and its socket. */
  close(): Promise<void>;
}

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface RpcResponse {
  id?: number | string | null;
  result?: { isError?: boolean; structuredContent?: Record<string, unknown>; content?: { text?: string }[] };
  error?: { code: number; message: string };
}

/** The JSON-RPC response with `id` in an answer's body: a JSON body or an SSE stream of events. */
export function responseIn(answer: HttpAnswer, id: number): RpcResponse {
  const type = String(answer.headers["content-type"] ?? "");
  // An SSE event's data may span several `data:` lines, joined by newlines (events end at a blank line).
  const messages: unknown[] = type.includes("text/event-stream")
    ? answer.body
        .split(/\r?\n\r?\n/)
        .map((event) =>
          event
            .split(/\r?\n/)
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice("data:".length).replace(/^ /, ""))
            .join("\n"),
        )
        .filter((data) => data !== "")
        .map((data) => JSON.parse(data))
    : [JSON.parse(answer.body)];
  const found = messages.flat().find((m): m is RpcResponse => (m as RpcResponse | null)?.id === id);
  if (found === undefined) throw new Error(`no JSON-RPC response with id ${id} in the answer (HTTP ${answer.status})`);
  return found;
}

export async function openBareSession(baseUrl: string): Promise<BareSession> {
  const url = new URL(`${baseUrl}/mcp`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** The session's headers, once initialize has named it. */
  const sessionHeaders: Record<string, string> = {};
  let nextId = 1;

  const send = (method: "POST" | "DELETE", body?: unknown): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent,
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...sessionHeaders,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  const rpc = async (method: string, params: unknown): Promise<{ answer: HttpAnswer; response: RpcResponse }> => {
    const id = nextId++;
    const answer = await send("POST", { jsonrpc: "2.0", id, method, params });
    if (answer.status >= 400) throw new Error(`${method}: HTTP ${answer.status}: ${answer.body.slice(0, 300)}`);
    return { answer, response: responseIn(answer, id) };
  };

  const init = await rpc("initialize", {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "kafscale-mcp-bench-prober", version: "1.0.0" },
  });
  if (init.response.error !== undefined) throw new Error(`initialize: ${init.response.error.message}`);
  const id = init.answer.headers["mcp-session-id"];
  if (typeof id !== "string" || id === "") throw new Error("initialize: the answer named no session (mcp-session-id)");
  Object.assign(sessionHeaders, { "mcp-session-id": id, "mcp-protocol-version": PROTOCOL_VERSION });
  const initialized = await send("POST", { jsonrpc: "2.0", method: "notifications/initialized" });
  if (initialized.status >= 400) throw new Error(`notifications/initialized: HTTP ${initialized.status}`);

  return {
    call: async (tool, args) => {
      const { response } = await rpc("tools/call", { name: tool, arguments: args });
      if (response.error !== undefined) return { ok: false, error: response.error.message };
      const result = response.result ?? {};
      if (result.isError === true) return { ok: false, error: result.content?.[0]?.text ?? "error without text" };
      return { ok: true, ...(result.structuredContent !== undefined ? { data: result.structuredContent } : {}) };
    },
    close: async () => {
      try {
        await send("DELETE");
      } finally {
        agent.destroy();
      }
    },
  };
}
