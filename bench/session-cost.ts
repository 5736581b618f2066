/**
 * What one open MCP session costs in heap: the service on the demo cluster, in this process, with the
 * image's heap flags; N sessions opened over real HTTP the way a client opens them (initialize, the
 * initialized notification, tools/list, one tool call) and never closed; the heap after a full GC,
 * before and after. The session caps' defaults (KAFSCALE_MCP_MAX_SESSIONS, README "Memory") come from
 * this number.
 *
 *   node --expose-gc --max-old-space-size=192 --max-semi-space-size=16 --import tsx bench/session-cost.ts [N]
 *   (KAFSCALE_MCP_ENABLE_QUERY=true in the environment: sessions that may call query_snapshot)
 */
import { Agent, request } from "node:http";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/log.js";
import { startService } from "../src/service.js";

const sessions = Number(process.argv[2] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc (see the header of this file)");

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** POSTs one JSON-RPC message; resolves with the session id header once the answer is read. */
function post(url: string, body: unknown, sessionId?: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(sessionId ? { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`HTTP ${res.statusCode} for ${JSON.stringify(body)}`));
          else resolve(res.headers["mcp-session-id"] as string | undefined);
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function openSession(url: string): Promise<void> {
  const params = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "session-cost", version: "1" } };
  const id = await post(url, { jsonrpc: "2.0", id: 1, method: "initialize", params });
  if (id === undefined) throw new Error("no session id");
  await post(url, { jsonrpc: "2.0", method: "notifications/initialized" }, id);
  await post(url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, id);
  await post(url, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "list_topics", arguments: {} } }, id);
}

function heapAfterGc(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

const MB = 1024 * 1024;
const config = loadConfig({
  KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0",
  KAFSCALE_MCP_AUDIT_STDOUT: "false",
  KAFSCALE_MCP_RATE_LIMIT: "0",
  KAFSCALE_MCP_MAX_SESSIONS: String(sessions + 10),
  KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL: String(sessions + 10),
  // With query_snapshot granted, each session also registers the schema resource.
  KAFSCALE_MCP_ENABLE_QUERY: process.env.KAFSCALE_MCP_ENABLE_QUERY ?? "false",
});
const service = await startService({ config, logger: silentLogger, demo: true });
const url = `${service.url}/mcp`;
// Warm up (code paths compiled, caches filled) with sessions that are then closed, so the baseline is steady.
for (let i = 0; i < 50; i++) await openSession(url);
await service.close();
const running = await startService({ config, logger: silentLogger, demo: true });
const target = `${running.url}/mcp`;
for (let i = 0; i < 20; i++) await openSession(target);
const before = heapAfterGc();
const started = performance.now();
const queue = Array.from({ length: sessions }, (_, i) => i);
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (queue.pop() !== undefined) await openSession(target);
  }),
);
const seconds = (performance.now() - started) / 1000;
const after = heapAfterGc();
const perSession = (after.heap - before.heap) / sessions;
console.log(
  JSON.stringify(
    {
      sessions,
      node_options: process.execArgv.join(" "),
      heap_before_mb: +(before.heap / MB).toFixed(1),
      heap_after_mb: +(after.heap / MB).toFixed(1),
      rss_before_mb: +(before.rss / MB).toFixed(1),
      rss_after_mb: +(after.rss / MB).toFixed(1),
      heap_per_session_kb: +(perSession / 1024).toFixed(1),
      open_seconds: +seconds.toFixed(1),
    },
    null,
    2,
  ),
);
agent.destroy();
await running.close();
