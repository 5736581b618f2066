/** Raw HTTP for tests that need exact status codes and headers (node:http: fetch cannot set Host). */
import { request, type Agent } from "node:http";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Where a request comes from: a loopback address of its own (127.0.0.2, …: another client), or an agent. */
export interface RawRequestOptions {
  localAddress?: string;
  agent?: Agent;
}

/** Sends `method` to `url` with a JSON body (or none) and collects the whole answer. */
export async function rawRequest(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        localAddress: options.localAddress,
        agent: options.agent,
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          accept: "application/json, text/event-stream",
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") out[k] = v;
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: out, text, json: <T,>() => JSON.parse(text) as T });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The JSON-RPC messages of an SSE or JSON answer. */
export function rpcMessages(response: RawResponse): Record<string, any>[] {
  if (!(response.headers["content-type"] ?? "").includes("text/event-stream")) return [response.json()];
  return response.text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, any>);
}

/** A raw `initialize` request. */
export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

/** Headers for requests in session `id` (plus `extra`). */
export function sessionHeaders(id: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" };
}

/** Opens a session on `mcpUrl` the way a client does (initialize, then initialized); its id. */
export async function openRawSession(
  mcpUrl: string,
  headers: Record<string, string> = {},
  options: RawRequestOptions = {},
): Promise<string> {
  const init = await rawRequest("POST", mcpUrl, INITIALIZE, headers, options);
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${init.text}`);
  const id = init.headers["mcp-session-id"] as string;
  const done = await rawRequest("POST", mcpUrl, { jsonrpc: "2.0", method: "notifications/initialized" }, sessionHeaders(id, headers), options);
  if (done.status !== 202) throw new Error(`notifications/initialized answered ${done.status}`);
  return id;
}
