/**
 * A session cap with no idle session to give up: the session manager over real HTTP (express, the
 * SDK's transport and server) with a tool that holds its call open until the test releases it, so a
 * session is busy for as long as the test needs. A new session is refused with 503, Retry-After and a
 * JSON-RPC error body; once the call ends, the idle session makes room instead.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { silentLogger } from "../../src/log.js";
import { createSessionManager, SESSION_RETRY_AFTER_SECONDS, type SessionEviction } from "../../src/http/mcp/sessions.js";
import type { Principal } from "../../src/tools/call-context.js";
import { INITIALIZE, openRawSession, rawRequest, rpcMessages, sessionHeaders } from "../support/raw-http.js";

const PRINCIPAL: Principal = { subject: "agent", authMode: "static", scopes: ["observe"] };

describe("session refusal", () => {
  let server: Server | null = null;
  afterEach(async () => {
    const s = server;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  });

  it("refuses with 503 + Retry-After while every session is busy, then evicts the idle one", async () => {
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const callEntered = new Promise<void>((resolve) => (entered = resolve));
    const newServer = (): McpServer => {
      const mcp = new McpServer({ name: "t", version: "1" }, { capabilities: { tools: {} } });
      mcp.registerTool("hold", { description: "answers when the test says so" }, async () => {
        entered();
        await new Promise<void>((resolve) => (release = resolve));
        return { content: [{ type: "text", text: "released" }] };
      });
      return mcp;
    };
    const refused: string[] = [];
    const denied: [string, number][] = [];
    const evicted: SessionEviction[] = [];
    const sessions = createSessionManager({
      idleTimeoutMs: 0,
      maxSessions: 10,
      maxSessionsPerPrincipal: 1,
      newServer,
      ownerOf: () => "agent",
      logger: silentLogger,
      onRefused: (_req, limit) => refused.push(limit),
      onDenied: (_req, reason, status) => denied.push([reason, status]),
      onEvicted: (_req, eviction) => evicted.push(eviction),
    });
    const app = express();
    app.post("/mcp", express.json(), (req, res) => void sessions.handle(req, res, PRINCIPAL));
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server?.once("listening", resolve));
    const mcp = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;

    const busy = await openRawSession(mcp);
    const call = rawRequest(
      "POST",
      mcp,
      { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "hold", arguments: {} } },
      sessionHeaders(busy),
    );
    await callEntered;

    const refusal = await rawRequest("POST", mcp, INITIALIZE);
    expect(refusal.status).toBe(503);
    expect(refusal.headers["retry-after"]).toBe(String(SESSION_RETRY_AFTER_SECONDS));
    expect(refusal.json()).toEqual({
      jsonrpc: "2.0",
      id: 1,
      error: {
        code: -32000,
        message: `Service Unavailable: this principal's 1 MCP sessions are all busy; close unused sessions (DELETE /mcp) or retry after ${SESSION_RETRY_AFTER_SECONDS}s`,
        data: { retry_after_seconds: SESSION_RETRY_AFTER_SECONDS, session_cap: 1, limit: "principal" },
      },
    });
    expect(refused).toEqual(["principal"]);
    expect(denied).toEqual([["session cap reached (principal)", 503]]);
    expect(sessions.count()).toBe(1);

    // The busy session was not touched: its call completes.
    release();
    expect(rpcMessages(await call)[0]).toMatchObject({ id: 5, result: { content: [{ text: "released" }] } });

    // Now idle, it makes room for the next session.
    const next = await openRawSession(mcp);
    expect(evicted).toEqual([{ sessionId: busy, principal: PRINCIPAL, limit: "principal" }]);
    expect((await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 6, method: "tools/list" }, sessionHeaders(busy))).status).toBe(404);
    expect((await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 6, method: "tools/list" }, sessionHeaders(next))).status).toBe(200);
    await sessions.closeAll();
  });
});
