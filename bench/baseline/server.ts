/**
 * BENCHMARK BASELINE — NOT PART OF THE PRODUCT. Run only by bench/run.ts, in its own process.
 *
 * A stand-in for Kafscale's Go MCP service built with the same SDK and HTTP stack as ours
 * (McpServer + StreamableHTTPServerTransport on express, one server per session, SSE replies), so
 * the comparison isolates the data path: live etcd reads per call (go-style-tools.ts) against our
 * local snapshot. Configured by environment:
 *   BASELINE_ETCD_ENDPOINTS  etcd client URL(s), comma-separated
 *   BASELINE_HTTP_ADDR       host:port to listen on (port 0: any free port)
 * Logs JSON lines on stderr: "listening" (url), "snapshot loaded" (topics, revision).
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { NO_FAULT_HANDLING } from "../../src/sync/etcd/fault-handling.js";
import { Etcd3 } from "etcd3";
import express from "express";
import { registerGoStyleTools, SnapshotHolder } from "./go-style-tools.js";

const log = (msg: string, fields: Record<string, unknown> = {}): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
};

async function main(): Promise<void> {
  const endpoints = (process.env.BASELINE_ETCD_ENDPOINTS ?? "").split(",").filter(Boolean);
  const [host = "127.0.0.1", port = "0"] = (process.env.BASELINE_HTTP_ADDR ?? "127.0.0.1:0").split(":");
  if (endpoints.length === 0) throw new Error("BASELINE_ETCD_ENDPOINTS is required");

  const client = new Etcd3({
    hosts: endpoints,
    // Go's clientv3 accepts responses up to MaxInt32 bytes; grpc-js would stop at 4 MiB.
    grpcOptions: { "grpc.max_receive_message_length": -1 },
    // etcd3's default circuit breaker (open for 5 s after 3 failures) and retries have no
    // counterpart in Go's clientv3: one slow list_groups past its deadline would otherwise fail
    // every call for 5 s. src/sync/etcd/fault-handling.ts turns them off.
    faultHandling: NO_FAULT_HANDLING,
  });
  const holder = new SnapshotHolder(client);
  await holder.refresh();
  await holder.watch((err) => log("snapshot refresh failed", { error: err.message }));
  log("snapshot loaded", { topics: holder.snapshot.topics.length, revision: holder.revision });

  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const app = express();
  app.use(express.json({ limit: "1mb" }));
  app.all("/mcp", async (req, res) => {
    const id = req.header("mcp-session-id");
    const existing = id === undefined ? undefined : sessions.get(id);
    if (existing) return existing.handleRequest(req, res, req.body);
    if (id !== undefined || req.method !== "POST" || !isInitializeRequest(req.body)) {
      res.status(id === undefined ? 400 : 404).json({ jsonrpc: "2.0", error: { code: -32000, message: "no session" }, id: null });
      return;
    }
    const server = new McpServer({ name: "kafscale-mcp-go-baseline", version: "bench" }, { capabilities: { tools: {} } });
    registerGoStyleTools(server, client, holder);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  const http = createServer(app);
  await new Promise<void>((resolve) => http.listen(Number(port), host, resolve));
  log("listening", { url: `http://${host}:${(http.address() as AddressInfo).port}` });

  const stop = (): void => {
    http.close();
    http.closeAllConnections();
    client.close();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  log("baseline failed", { error: err instanceof Error ? err.stack : String(err) });
  process.exit(1);
});
