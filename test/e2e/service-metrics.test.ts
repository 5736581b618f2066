/**
 * The service's own /metrics (issue 12.8), scraped over HTTP and parsed with the service's own
 * Prometheus text parser: tool-call latency by tool and outcome (calls refused by input validation
 * included), refused requests by reason, sessions, the snapshot, the watch apply delay, the metrics
 * poller per target, and Node's process metrics. Two services in one process keep separate registries.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BROKER_METRICS_SAMPLE } from "../../src/demo/broker-metrics-sample.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningService } from "../../src/service.js";
import { parsePrometheusText, type ParseResult } from "../../src/sync/metrics/prom-text.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { rawRequest, INITIALIZE } from "../support/raw-http.js";
import { callTool, connectClient, startTestService, toolError } from "../support/service.js";

const SAMPLE = BROKER_METRICS_SAMPLE;

async function scrape(service: RunningService): Promise<ParseResult> {
  const res = await fetch(`${service.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const parsed = parsePrometheusText(await res.text());
  expect(parsed.errors).toEqual([]);
  return parsed;
}

/** The value of the one sample of `name` whose labels include `labels` (undefined if none). */
function valueOf(parsed: ParseResult, name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}

describe("/metrics", () => {
  const etcd = testEtcd();
  let targets: Server;
  let service: RunningService;
  let plain: RunningService;

  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
    // A broker that answers and an operator endpoint that fails.
    targets = createServer((req, res) => {
      if (req.url === "/broker") res.writeHead(200, { "content-type": "text/plain" }).end(SAMPLE);
      else res.writeHead(500).end("boom");
    });
    await new Promise<void>((resolve) => targets.listen(0, "127.0.0.1", resolve));
    const port = (targets.address() as AddressInfo).port;
    service = await startTestService(etcd.endpoint, etcd.namespace, {
      KAFSCALE_MCP_BROKER_METRICS_URL: `http://127.0.0.1:${port}/broker`,
      KAFSCALE_MCP_OPERATOR_METRICS_URL: `http://127.0.0.1:${port}/operator`,
      KAFSCALE_MCP_SCRAPE_INTERVAL: "1h",
    });
    plain = await startTestService(etcd.endpoint, etcd.namespace);
    await Promise.all([service.sync?.ready(), plain.sync?.ready()]);
  });
  afterAll(async () => {
    await service?.close();
    await plain?.close();
    await new Promise((resolve) => targets?.close(resolve));
    etcd.client.close();
  });

  it("counts tool calls by tool and outcome, with latency, including calls refused by input validation", async () => {
    const client = await connectClient(service.url as string);
    await callTool(client, "list_topics");
    await callTool(client, "list_topics");
    await toolError(client, "describe_group", { group_id: "ghost" });
    expect(await toolError(client, "list_topics", { limit: "many" })).toMatch(/Input validation error/);
    const parsed = await scrape(service);
    await client.close();

    expect(parsed.families.get("kafscale_mcp_tool_call_duration_seconds")?.type).toBe("histogram");
    const ok = { tool: "list_topics", outcome: "ok" };
    expect(valueOf(parsed, "kafscale_mcp_tool_call_duration_seconds_count", ok)).toBe(2);
    expect(valueOf(parsed, "kafscale_mcp_tool_call_duration_seconds_bucket", { ...ok, le: "+Inf" })).toBe(2);
    expect(valueOf(parsed, "kafscale_mcp_tool_call_duration_seconds_sum", ok)).toBeGreaterThan(0);
    expect(valueOf(parsed, "kafscale_mcp_tool_calls_total", ok)).toBe(2);
    expect(valueOf(parsed, "kafscale_mcp_tool_calls_total", { tool: "describe_group", outcome: "tool_error" })).toBe(1);
    expect(
      valueOf(parsed, "kafscale_mcp_tool_call_duration_seconds_count", { tool: "list_topics", outcome: "invalid_arguments" }),
    ).toBe(1);
    expect(valueOf(parsed, "kafscale_mcp_sessions")).toBe(1);
  });

  it("counts refused requests by reason", async () => {
    const mcp = `${service.url}/mcp`;
    await rawRequest("POST", mcp, JSON.stringify(INITIALIZE), { "content-type": "text/plain" });
    await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: 1 } });
    const parsed = await scrape(service);
    expect(valueOf(parsed, "kafscale_mcp_http_denied_total", { reason: "unsupported content type" })).toBe(1);
    expect(valueOf(parsed, "kafscale_mcp_http_denied_total", { reason: "invalid params" })).toBe(1);
    expect(parsed.families.get("kafscale_mcp_session_evictions_total")?.type).toBe("counter");
    expect(parsed.families.get("kafscale_mcp_session_refusals_total")?.type).toBe("counter");
  });

  it("shows the snapshot, the etcd link, resyncs, decode errors and the watch apply delay", async () => {
    const put = await etcd.keyspace.put("/kafscale/metrics-test/flag").value("1").exec();
    const revision = Number(put.header.revision);
    await service.sync?.waitForRevision(revision);
    const parsed = await scrape(service);
    expect(valueOf(parsed, "kafscale_mcp_snapshot_revision")).toBe(service.store.syncState.get().revision);
    expect(valueOf(parsed, "kafscale_mcp_snapshot_revision")).toBeGreaterThanOrEqual(revision);
    expect(valueOf(parsed, "kafscale_mcp_snapshot_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(valueOf(parsed, "kafscale_mcp_etcd_link")).toBe(2);
    expect(valueOf(parsed, "kafscale_mcp_resyncs_total")).toBe(0);
    expect(valueOf(parsed, "kafscale_mcp_decode_errors")).toBe(service.store.syncState.get().decodeErrorKeys);
    expect(parsed.families.get("kafscale_mcp_watch_apply_delay_seconds")?.type).toBe("histogram");
    expect(valueOf(parsed, "kafscale_mcp_watch_apply_delay_seconds_count")).toBeGreaterThanOrEqual(1);
  });

  it("shows the metrics poller: ticks, and per target the last duration and the failures", async () => {
    await vi.waitFor(async () => expect(valueOf(await scrape(service), "kafscale_mcp_scrape_ticks_total")).toBeGreaterThanOrEqual(1), {
      timeout: 10_000,
      interval: 50,
    });
    const parsed = await scrape(service);
    expect(valueOf(parsed, "kafscale_mcp_scrape_skipped_ticks_total")).toBe(0);
    expect(valueOf(parsed, "kafscale_mcp_scrape_duration_seconds", { target: "broker:url" })).toBeGreaterThanOrEqual(0);
    expect(valueOf(parsed, "kafscale_mcp_scrape_duration_seconds", { target: "operator" })).toBeGreaterThanOrEqual(0);
    expect(valueOf(parsed, "kafscale_mcp_scrape_consecutive_failures", { target: "broker:url" })).toBe(0);
    expect(valueOf(parsed, "kafscale_mcp_scrape_consecutive_failures", { target: "operator" })).toBeGreaterThanOrEqual(1);
    expect(valueOf(parsed, "kafscale_mcp_scrape_last_success_timestamp_seconds", { target: "broker:url" })).toBeGreaterThan(0);
    expect(valueOf(parsed, "kafscale_mcp_scrape_last_success_timestamp_seconds", { target: "operator" })).toBeUndefined();
  });

  it("includes Node's process metrics, and keeps each service's registry its own", async () => {
    const parsed = await scrape(service);
    expect(valueOf(parsed, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(valueOf(parsed, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(parsed.families.has("nodejs_eventloop_lag_seconds")).toBe(true);
    const other = await scrape(plain);
    expect(valueOf(other, "kafscale_mcp_tool_calls_total", { tool: "list_topics", outcome: "ok" })).toBeUndefined();
    expect(valueOf(other, "kafscale_mcp_sessions")).toBe(0);
    // No poller configured there: no scrape series.
    expect(other.families.has("kafscale_mcp_scrape_ticks_total")).toBe(false);
    expect(valueOf(other, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});
