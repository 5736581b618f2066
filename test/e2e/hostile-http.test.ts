/**
 * A hostile or sloppy client against the real service over real HTTP (issue 11): bodies with the
 * wrong charset or content type, a Content-Length over the limit with no body behind it, an empty
 * batch, malformed tools/call params, bad %-encoding and unknown topics on REST, rate limits per
 * client address with auth off (initialize included), and the session caps: the least recently used
 * idle session makes room, audited and counted.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../src/service.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";
import { testClock } from "../support/clock.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { INITIALIZE, openRawSession, rawRequest, rpcMessages, sessionHeaders } from "../support/raw-http.js";
import { auditedRows, startTestService } from "../support/service.js";

const etcd = testEtcd();
const started: RunningService[] = [];

async function start(
  env: Record<string, string> = {},
  options: { now?: () => number } = {},
): Promise<{ service: RunningService; mcp: string }> {
  const service = await startTestService(etcd.endpoint, etcd.namespace, env, options);
  started.push(service);
  await service.sync?.ready();
  return { service, mcp: `${service.url}/mcp` };
}

beforeAll(async () => {
  await writeCluster(etcd.keyspace, realisticCluster);
});
afterAll(async () => {
  for (const s of started) await s.close();
  etcd.client.close();
});

/**
 * Sends only the headers of a POST declaring `length` body bytes and never the body; resolves with
 * all the server sent before closing. An answer that needed the body could only be the server's own
 * request timeout (408, after 60 s).
 */
function headersOnly(url: string, length: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${length}\r\n\r\n`,
    );
  });
}

describe("bad input on /mcp", () => {
  it("answers a charset other than UTF-8 and a body that is not JSON with 415, saying which", async () => {
    const { mcp } = await start();
    const latin1 = await rawRequest("POST", mcp, INITIALIZE, { "content-type": "application/json; charset=latin1" });
    expect(latin1.status).toBe(415);
    expect(latin1.json()).toMatchObject({ jsonrpc: "2.0", error: { message: expect.stringMatching(/charset "latin1".*UTF-8/) } });
    const text = await rawRequest("POST", mcp, JSON.stringify(INITIALIZE), { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect(text.json<{ error: { message: string } }>().error.message).toMatch(/Content-Type must be application\/json \(got "text\/plain"\)/);
    const none = await rawRequest("POST", mcp, JSON.stringify(INITIALIZE), { "content-type": "" });
    expect(none.status).toBe(415);
  });

  it("refuses a declared Content-Length over the limit at once, without waiting for the body", async () => {
    const { service, mcp } = await start({ KAFSCALE_MCP_MAX_BODY_BYTES: "1024" });
    const answer = await headersOnly(mcp, 10 * 1024 * 1024);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain("connection: close");
    expect(answer).toMatch(/"message":"Request body exceeds 1024 bytes"/);
    expect(auditedRows(service).recent(10).some((r) => r.reason === "body too large" && r.status === 413)).toBe(true);
  });

  it("answers an empty batch with an Invalid Request error, not 202", async () => {
    const { mcp } = await start();
    const empty = await rawRequest("POST", mcp, []);
    expect(empty.status).toBe(400);
    expect(empty.json()).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request: empty batch" }, id: null });
  });

  it("answers malformed tools/call params with -32602 Invalid params, not an internal error", async () => {
    const { mcp } = await start();
    const session = await openRawSession(mcp);
    const cases: [unknown, RegExp][] = [
      [{ name: 42 }, /name: /],
      [{ name: "list_topics", arguments: "everything" }, /arguments: /],
      [undefined, /params: /],
    ];
    for (const [params, detail] of cases) {
      const res = await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 7, method: "tools/call", params }, sessionHeaders(session));
      expect(res.status, JSON.stringify(params)).toBe(400);
      const body = res.json<{ id: number; error: { code: number; message: string } }>();
      expect(body.id).toBe(7);
      expect(body.error.code).toBe(-32602);
      expect(body.error.message).toMatch(/^Invalid params for tools\/call: /);
      expect(body.error.message).toMatch(detail);
    }
    // Well-formed params with arguments the tool refuses are still the SDK's tool error.
    const bad = await rawRequest(
      "POST",
      mcp,
      { jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "list_topics", arguments: { limit: "x" } } },
      sessionHeaders(session),
    );
    expect(rpcMessages(bad)[0]).toMatchObject({ id: 8, result: { isError: true } });
  });
});

describe("bad input on /api/v1", () => {
  it("says when a path segment is not valid %-encoding, and answers an unknown topic with 404", async () => {
    const { service } = await start();
    const api = `${service.url}/api/v1`;
    const badEncoding = await rawRequest("GET", `${api}/topics/%E0%A4%A`);
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.json()).toEqual({
      error: "malformed URL: a path segment is not valid percent-encoding (encode names as UTF-8)",
    });
    const unknown = await rawRequest("GET", `${api}/topics/ghost`);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ error: 'topic "ghost" not found. Hint: list_topics shows the known topics' });
    expect((await rawRequest("GET", `${api}/topics/orders`)).status).toBe(200);
  });
});

describe("rate limits with auth mode none", () => {
  it("counts initialize, and gives each client address its own bucket", async () => {
    // A frozen clock: no refill however slowly the machine runs the test.
    const { service, mcp } = await start(
      { KAFSCALE_MCP_RATE_LIMIT: "1", KAFSCALE_MCP_RATE_BURST: "2" },
      { now: testClock({ frozen: true }).now },
    );
    const from = (localAddress: string) => rawRequest("POST", mcp, INITIALIZE, {}, { localAddress });
    expect((await from("127.0.0.1")).status).toBe(200);
    expect((await from("127.0.0.1")).status).toBe(200);
    const limited = await from("127.0.0.1");
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    expect(limited.json()).toMatchObject({
      id: 1,
      error: { message: expect.stringMatching(/^rate limit exceeded: 1 calls per minute per principal \(tool calls and initialize\)/) },
    });
    // Another client (another loopback address) is not limited by the first one's calls.
    expect((await from("127.0.0.2")).status).toBe(200);
    const rows = auditedRows(service).recent(20).filter((r) => r.reason === "rate limit exceeded");
    expect(rows).toMatchObject([{ subject: "anonymous", status: 429, remoteAddr: "127.0.0.1", tool: null }]);
  });
});

describe("session caps", () => {
  it("makes room with the least recently used idle session: the principal's own first, then the table's", async () => {
    const { service, mcp } = await start({
      KAFSCALE_MCP_MAX_SESSIONS: "3",
      KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL: "2",
      KAFSCALE_MCP_RATE_LIMIT: "0",
    });
    const open = (localAddress: string) => openRawSession(mcp, {}, { localAddress });
    const status = async (session: string): Promise<number> =>
      (await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 2, method: "tools/list" }, sessionHeaders(session))).status;

    // With auth off each client address is a principal: 127.0.0.1 may hold two sessions.
    const s1 = await open("127.0.0.1");
    const s2 = await open("127.0.0.1");
    const s3 = await open("127.0.0.1");
    expect(await status(s1)).toBe(404);
    expect([await status(s2), await status(s3)]).toEqual([200, 200]);

    // The table (3) is full after another client's session; s2 is used again, so s3 is the LRU.
    const t1 = await open("127.0.0.2");
    expect(await status(s2)).toBe(200);
    const u1 = await open("127.0.0.3");
    expect(await status(s3)).toBe(404);
    expect([await status(s2), await status(t1), await status(u1)]).toEqual([200, 200, 200]);

    const evictions = auditedRows(service)
      .recent(50)
      .filter((r) => r.reason?.startsWith("session evicted"))
      .map((r) => [r.reason, r.sessionId, r.subject, r.outcome]);
    expect(evictions.reverse()).toEqual([
      ["session evicted: principal session cap reached", s1, "anonymous", "denied"],
      ["session evicted: table session cap reached", s3, "anonymous", "denied"],
    ]);
    const metrics = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text()).samples;
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      metrics.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value("kafscale_mcp_session_evictions_total", { limit: "principal" })).toBe(1);
    expect(value("kafscale_mcp_session_evictions_total", { limit: "table" })).toBe(1);
    expect(value("kafscale_mcp_sessions")).toBe(3);
  });
});
