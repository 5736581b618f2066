/**
 * The HTTP surface: auth, Host/Origin protection, body limits, sessions (expiry, 404), stateless
 * mode and readiness before the first sync (/metrics: service-metrics.test.ts).
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RunningService } from "../../src/service.js";
import { freePort } from "../../bench/lib/etcd-process.js";
import { testClock } from "../support/clock.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { callTool, connectClient, startTestService, toolError } from "../support/service.js";
import { ALL_TOOLS } from "../../src/tools/index.js";

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

/** POST /mcp with node:http, because fetch does not let a caller choose the Host header. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/mcp`,
      {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const responseHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") responseHeaders.set(k, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: responseHeaders }));
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
}

describe("HTTP surface", () => {
  const etcd = testEtcd();
  const started: RunningService[] = [];
  const start = async (env: Record<string, string> = {}, options: { now?: () => number } = {}): Promise<RunningService> => {
    const service = await startTestService(etcd.endpoint, etcd.namespace, env, options);
    started.push(service);
    await service.sync?.ready();
    return service;
  };

  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
  });
  afterAll(async () => {
    for (const s of started) await s.close();
    etcd.client.close();
  });

  it("requires the static bearer token when one is configured", async () => {
    const service = await start({ KAFSCALE_MCP_AUTH_TOKEN: "s3cret-token" });
    const url = service.url as string;

    const missing = await post(url, INIT);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="kafscale-mcp"');
    const wrong = await post(url, INIT, { authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect((await post(url, INIT, { authorization: "bearer s3cret-token" })).status).toBe(401);

    await expect(connectClient(url, { authorization: "Bearer wrong" })).rejects.toThrow();
    const client = await connectClient(url, { authorization: "Bearer s3cret-token" });
    expect((await callTool<{ topics: unknown[] }>(client, "list_topics")).topics).toHaveLength(3);
    await client.close();
    // Liveness stays open.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("refuses a foreign Host or Origin on /mcp while /healthz still answers", async () => {
    const service = await start();
    const url = service.url as string;
    const port = new URL(url).port;
    const evilHost = await post(url, INIT, { host: `evil.example:${port}` });
    expect(evilHost.status).toBe(403);
    expect(await evilHost.text()).toMatch(/Host header not allowed/);
    const evilOrigin = await post(url, INIT, { origin: "https://evil.example" });
    expect(evilOrigin.status).toBe(403);
    expect(await evilOrigin.text()).toMatch(/Origin not allowed/);
    expect((await post(url, INIT, { origin: `http://localhost:${port}` })).status).toBe(200);
    expect(await get(`${url}/healthz`, { host: "evil.example" })).toBe(200);

    // A configured allow-list replaces the loopback defaults.
    const strict = await start({
      KAFSCALE_MCP_ALLOWED_HOSTS: "mcp.internal",
      KAFSCALE_MCP_ALLOWED_ORIGINS: "https://console.internal",
    });
    const strictUrl = strict.url as string;
    expect((await post(strictUrl, INIT)).status).toBe(403);
    expect((await post(strictUrl, INIT, { host: "mcp.internal" })).status).toBe(200);
    expect((await post(strictUrl, INIT, { host: "mcp.internal", origin: "https://console.internal" })).status).toBe(200);
    expect((await post(strictUrl, INIT, { host: "mcp.internal", origin: "https://other.internal" })).status).toBe(403);
  });

  it("limits request bodies and answers malformed JSON with a JSON-RPC error", async () => {
    const service = await start({ KAFSCALE_MCP_MAX_BODY_BYTES: "1024" });
    const url = service.url as string;
    const big = await post(url, { ...INIT, params: { ...INIT.params, padding: "x".repeat(4096) } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(/exceeds 1024 bytes/);
    const garbage = await post(url, "{not json");
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const noSession = await post(url, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(noSession.status).toBe(400);
  });

  it("answers SSE by default and expires idle sessions with 404", async () => {
    const clock = testClock();
    const service = await start({ KAFSCALE_MCP_SESSION_TIMEOUT: "5m" }, { now: clock.now });
    const url = service.url as string;
    const init = await post(url, INIT);
    expect(init.headers.get("content-type")).toMatch(/text\/event-stream/);
    const sessionId = init.headers.get("mcp-session-id");
    expect(sessionId).toBeTruthy();
    await init.text();

    const client = await connectClient(url);
    await callTool(client, "list_topics");
    clock.advance(5 * 60_000 + 1);
    const error = await client.listTools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(404);
    const unknown = await post(url, { jsonrpc: "2.0", id: 3, method: "tools/list" }, { "mcp-session-id": "nope" });
    expect(unknown.status).toBe(404);
    await client.close().catch(() => undefined);
  });

  it("serves every request on its own in stateless mode", async () => {
    const service = await start({ KAFSCALE_MCP_STATELESS: "true" });
    const url = service.url as string;
    const init = await post(url, INIT);
    expect(init.status).toBe(200);
    expect(init.headers.get("mcp-session-id")).toBeNull();
    await init.text();
    const client = await connectClient(url);
    expect((await callTool<{ groups: unknown[] }>(client, "list_groups")).groups).toHaveLength(3);
    expect((await client.listTools()).tools).toHaveLength(ALL_TOOLS.filter((t) => t.scope === "observe").length);
    await client.close();
    expect((await fetch(`${url}/mcp`, { method: "GET" })).status).toBe(405);
  });
});

describe("before the first sync", () => {
  it("says that etcd cannot be reached, since when and why (sanitised), not 'sync in progress'", async () => {
    const deadPort = await freePort();
    const startedAt = Date.now();
    const service = await startTestService(`http://127.0.0.1:${deadPort}`, "", {
      KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "200ms",
    });
    try {
      const unreachable = /^etcd cannot be reached since (\S+Z): link probe failed: etcd refused the connection/;
      const readiness = await vi.waitFor(async () => {
        const ready = await fetch(`${service.url}/readyz`);
        expect(ready.status).toBe(503);
        const body = (await ready.json()) as { ready: boolean; reason: string };
        expect(body.reason).toMatch(unreachable);
        return body;
      }, 10_000);
      const since = Date.parse(unreachable.exec(readiness.reason)?.[1] ?? "");
      expect(since).toBeGreaterThanOrEqual(startedAt);
      expect(since).toBeLessThanOrEqual(Date.now());
      const client = await connectClient(service.url as string);
      const text = await toolError(client, "list_topics");
      expect(text).toMatch(/^snapshot not ready: etcd cannot be reached since \S+Z: link probe failed: etcd refused/);
      expect(text).toMatch(/Hint: the service keeps retrying by itself/);
      // Sanitised: the endpoint stays out of what an agent sees.
      expect(text).not.toContain(String(deadPort));
      expect(readiness.reason).not.toContain(String(deadPort));
      await client.close();
    } finally {
      await service.close();
    }
  });
});
