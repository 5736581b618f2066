/**
 * The metrics poller against a real local HTTP server (node:http, port 0) serving the broker sample and
 * its failure modes, writing into a real in-memory store.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { MetricsConfig } from "../../src/config.js";
import { brokerMetrics } from "../../src/demo/demo-metrics.js";
import { silentLogger } from "../../src/log.js";
import { createStore, type Store } from "../../src/store/index.js";
import { aggregateBrokerViews, aggregateOf, deriveBrokerView } from "../../src/kafscale/broker-view.js";
import { encodeSnapshot } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import {
  createMetricsPoller,
  cronScheduleFor,
  expandUrlTemplate,
  metricsStaleAfterMs,
  resolveTargets,
  type BrokerHost,
  type MetricsPoller,
  type MetricsPollerOptions,
} from "../../src/sync/metrics/metrics-poller.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";
import { UNTIL } from "../support/conditions.js";

const sample = brokerMetrics();
const degraded = brokerMetrics({ s3State: "degraded", gauges: { s3_latency_ms_avg: 750.5, s3_error_rate: 0.25 } });
const operatorText = [
  "# TYPE kafscale_operator_clusters gauge",
  "kafscale_operator_clusters 1",
  'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/demo"} 42',
  'kafscale_operator_etcd_snapshot_stale{cluster="kafscale/demo"} 0',
  'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/demo"} 1',
  "# controller-runtime's own families are not kept",
  "go_goroutines 88",
  "",
].join("\n");

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const text =
  (body: string, status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "text/plain; version=0.0.4" });
    res.end(body);
  };

/** Routes of the fake broker; tests add or swap entries (e.g. "/toggle"). */
const routes = new Map<string, Handler>([
  ["/metrics", text(sample)],
  ["/degraded", text(degraded)],
  ["/operator", text(operatorText)],
  ["/500", text("boom", 500)],
  ["/hang", () => undefined],
  [
    "/truncated",
    (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(sample.length) });
      res.write(sample.slice(0, sample.length / 2));
      setTimeout(() => res.socket?.destroy(), 20);
    },
  ],
  ["/garbage", text("<!doctype html>\n<html><body>\n<h1>Welcome to nginx!</h1>\n</body></html>\n")],
  ["/big", text(sample.repeat(4))],
  [
    // No content-length: only counting the streamed bytes can catch it.
    "/endless",
    (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const timer = setInterval(() => res.write(`${sample}\n`), 1);
      res.on("close", () => clearInterval(timer));
    },
  ],
]);

/** Waiting on a condition: generous, because a busy machine may be slow; a pass is never slower. */
const CONDITION = { timeout: 20_000, interval: 10 };

let server: Server;
let base: string;
let hostPort: string;
let deadHostPort: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes.get(new URL(req.url ?? "/", "http://x").pathname);
    if (route) route(req, res);
    else text("not found", 404)(req, res);
  });
  hostPort = await listen(server);
  base = `http://${hostPort}`;
  // A port that was just free and is closed again: connection refused.
  const dead = createServer();
  deadHostPort = await listen(dead);
  await new Promise((resolve) => dead.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const stores: Store[] = [];
const pollers: MetricsPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  for (const s of stores.splice(0)) s.close();
  vi.useRealTimers();
});

function setup(
  metrics: Partial<MetricsConfig>,
  extra: Partial<MetricsPollerOptions> = {},
): { store: Store; poller: MetricsPoller } {
  const store = createStore(":memory:");
  stores.push(store);
  const config: MetricsConfig = { intervalMs: 15_000, timeoutMs: 2_000, retentionMs: 3_600_000, ...metrics };
  const poller = createMetricsPoller({ store, config, logger: silentLogger, ...extra });
  pollers.push(poller);
  return { store, poller };
}

const fullView = deriveBrokerView(parsePrometheusText(sample).samples);

describe("single URL mode", () => {
  it("scrapes the full sample into the snapshot", async () => {
    const { store, poller } = setup({ brokerUrl: `${base}/metrics` }, { now: () => 1_700_000_000_000 });
    await poller.scrapeOnce();
    const snap = store.metrics.latest();
    expect(snap?.observedAt).toBe(1_700_000_000_000);
    expect(aggregateOf(snap)).toEqual(fullView);
    expect(aggregateOf(snap)?.s3State).toBe("healthy");
    expect(snap?.brokers).toEqual([
      {
        target: "broker:url",
        nodeId: null,
        url: `${base}/metrics`,
        scrapedAt: 1_700_000_000_000,
        view: fullView,
        state: {
          lastAttemptAt: 1_700_000_000_000,
          lastSuccessAt: 1_700_000_000_000,
          lastError: null,
          lastErrorAt: null,
          consecutiveFailures: 0,
          lastDurationMs: 0,
        },
      },
    ]);
    expect(snap?.operator).toBeNull();
    // Histogram buckets are stored as series with their `le` label.
    const lag = store.metrics.sampleHistory("kafscale_consumer_lag_bucket", 0);
    expect(lag.find((p) => p.labels.le === "1e+06")?.value).toBe(4);
  });

  it.each([
    ["HTTP 500", "/500", {}, /^metrics request failed: 500 Internal Server Error$/],
    ["connection refused", null, {}, /^metrics request failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/],
    ["a hanging server", "/hang", { timeoutMs: 200 }, /^metrics request failed: timed out after 200 ms$/],
    ["a truncated body", "/truncated", {}, /^metrics request failed: body incomplete: /],
    ["an HTML page", "/garbage", {}, /^invalid metrics document: no valid samples; \d+ malformed lines$/],
    ["a declared oversized body", "/big", {}, /^metrics request failed: body exceeds 10000 bytes$/],
    ["an endless streamed body", "/endless", {}, /^metrics request failed: body exceeds 10000 bytes$/],
    ["a 404", "/nope", {}, /^metrics request failed: 404 Not Found$/],
  ])("records %s as a failed scrape", async (_name, path, config, error) => {
    const url = path === null ? `http://${deadHostPort}/metrics` : `${base}${path}`;
    const { store, poller } = setup({ brokerUrl: url, ...config }, { maxBodyBytes: 10_000 });
    await poller.scrapeOnce();
    const snap = store.metrics.latest();
    expect(snap?.observedAt).toBeNull();
    expect(aggregateOf(snap)).toBeNull();
    expect(snap?.brokers[0]?.view).toBeNull();
    expect(snap?.brokers[0]?.state.consecutiveFailures).toBe(1);
    expect(snap?.brokers[0]?.state.lastError).toMatch(error);
    expect(snap?.brokers[0]?.state.lastSuccessAt).toBeNull();
  });

  it("keeps the last good values, with their age, after later failures", async () => {
    let clock = 1_000_000;
    routes.set("/toggle", text(sample));
    const config = { brokerUrl: `${base}/toggle`, intervalMs: 15_000, timeoutMs: 5_000 };
    const { store, poller } = setup(config, { now: () => clock });
    await poller.scrapeOnce();

    routes.set("/toggle", text("<html>oops</html>"));
    clock += 15_000;
    await poller.scrapeOnce();
    routes.set("/toggle", text("down", 503));
    clock += 15_000;
    await poller.scrapeOnce();

    const snap = store.metrics.latest();
    const broker = snap?.brokers[0];
    expect(snap?.observedAt).toBe(1_000_000);
    expect(aggregateOf(snap)).toEqual(fullView);
    expect(broker?.view).toEqual(fullView);
    expect(broker?.state).toMatchObject({
      lastSuccessAt: 1_000_000,
      lastErrorAt: 1_030_000,
      lastError: "metrics request failed: 503 Service Unavailable",
      consecutiveFailures: 2,
    });
    // 30 s old against 2 × 15 s + 5 s: not stale yet; one more missed interval makes it stale.
    expect(clock - (snap?.observedAt ?? 0) > metricsStaleAfterMs(config)).toBe(false);
    expect(clock + 15_000 - (snap?.observedAt ?? 0) > metricsStaleAfterMs(config)).toBe(true);

    routes.set("/toggle", text(degraded));
    clock += 15_000;
    await poller.scrapeOnce();
    expect(store.metrics.latest()?.brokers[0]?.state.consecutiveFailures).toBe(0);
    expect(aggregateOf(store.metrics.latest())?.s3State).toBe("degraded");
  });
});

describe("per-broker mode", () => {
  // The template's {host} carries host:port here, so three "brokers" can share one local server.
  const hosts = (): BrokerHost[] => [
    { nodeId: 2, host: hostPort },
    { nodeId: 1, host: hostPort },
    { nodeId: 3, host: deadHostPort },
  ];
  routes.set("/broker/1/metrics", text(sample));
  routes.set("/broker/2/metrics", text(degraded));

  it("aggregates three brokers, one degraded and one down, the console's way", async () => {
    const { store, poller } = setup({ brokerUrlTemplate: "http://{host}/broker/{id}/metrics" }, { brokerHosts: hosts });
    await poller.scrapeOnce();
    await poller.scrapeOnce();

    const snap = store.metrics.latest();
    const degradedView = deriveBrokerView(parsePrometheusText(degraded).samples);
    expect(aggregateOf(snap)).toEqual(aggregateBrokerViews([fullView, degradedView]));
    expect(aggregateOf(snap)).toMatchObject({
      s3State: "degraded",
      s3LatencyMs: (38.412 + 750.5) / 2,
      s3ErrorRate: 0.25,
      produceRps: 2 * 1250.5,
      adminRequestsTotal: 26,
    });
    expect(snap?.brokers.map((b) => [b.target, b.nodeId, b.view?.s3State ?? null])).toEqual([
      ["broker:1", 1, "healthy"],
      ["broker:2", 2, "degraded"],
      ["broker:3", 3, null],
    ]);
    const down = snap?.brokers[2];
    expect(down?.url).toBe(`http://${deadHostPort}/broker/3/metrics`);
    expect(down?.state.consecutiveFailures).toBe(2);
    expect(down?.state.lastError).toMatch(/ECONNREFUSED/);
    // Each broker's own series stay queryable.
    const rps = store.metrics.sampleHistory("kafscale_s3_latency_ms_avg", 0);
    expect(rps.filter((p) => p.target === "broker:2").map((p) => p.value)).toEqual([750.5, 750.5]);
  });

  it("takes the brokers from the etcd snapshot by default, and drops brokers that left", async () => {
    const { store, poller } = setup({ brokerUrlTemplate: "http://{host}/broker/{node_id}/metrics" });
    const applySnapshot = (brokers: BrokerHost[], revision: number): void => {
      const value = encodeSnapshot({
        brokers: brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: 9092, rack: null })),
        controllerId: 1,
        topics: [],
        clusterName: "kafscale",
        clusterId: null,
      });
      const change = { type: "put" as const, key: keys.snapshot(), value, modRevision: revision };
      store.writer.applyChanges([{ ...change, createRevision: 2, version: revision - 1, lease: "0" }], revision);
    };
    applySnapshot(hosts(), 2);
    await poller.scrapeOnce();
    expect(store.metrics.latest()?.targets.map((t) => t.target)).toEqual(["broker:1", "broker:2", "broker:3"]);

    applySnapshot(hosts().filter((b) => b.nodeId !== 2), 3);
    await poller.scrapeOnce();
    const snap = store.metrics.latest();
    expect(snap?.brokers.map((b) => b.target)).toEqual(["broker:1", "broker:3"]);
    expect(aggregateOf(snap)).toEqual(fullView);
  });

  it("does not let a hanging broker delay the others", async () => {
    // Broker 9 answers only when the test lets it: broker 1 must be recorded while 9 still waits.
    const broker9: { answer?: () => void } = {};
    routes.set("/broker/9/metrics", (req, res) => {
      broker9.answer = () => text(sample)(req, res);
    });
    const brokerHosts = (): BrokerHost[] => [
      { nodeId: 1, host: hostPort },
      { nodeId: 9, host: hostPort },
    ];
    const template = "http://{host}/broker/{id}/metrics";
    const { store, poller } = setup({ brokerUrlTemplate: template, timeoutMs: 600_000 }, { brokerHosts });
    let tickDone = false;
    const tick = poller.scrapeOnce().then(() => {
      tickDone = true;
    });
    await vi.waitFor(() => expect(store.metrics.latest()?.brokers[0]?.view).not.toBeNull(), CONDITION);
    await vi.waitFor(() => expect(broker9.answer).toBeDefined(), CONDITION);
    // Broker 1 is recorded while broker 9's request is still open.
    expect(tickDone).toBe(false);
    expect(store.metrics.latest()?.brokers[1]?.state.lastAttemptAt).toBeNull();
    expect(poller.stats().running).toBe(true);
    broker9.answer?.();
    await tick;
    expect(store.metrics.latest()?.brokers[1]?.view).toEqual(fullView);
  });
});

describe("operator metrics", () => {
  it("scrapes the operator beside the broker and keeps only kafscale_* samples", async () => {
    const { store, poller } = setup({ brokerUrl: `${base}/metrics`, operatorUrl: `${base}/operator` });
    await poller.scrapeOnce();
    const snap = store.metrics.latest();
    expect(snap?.operator?.view).toEqual({
      clusters: 1,
      snapshotAgeSecondsMax: 42,
      lastSuccessTimestampMax: null,
      lastScheduleTimestampMax: null,
      staleMax: 0,
      accessOkMin: 1,
    });
    expect(snap?.targets.map((t) => [t.target, t.kind])).toEqual([
      ["broker:url", "broker"],
      ["operator", "operator"],
    ]);
    expect(store.metrics.sampleHistory("go_goroutines", 0)).toEqual([]);
    expect(store.metrics.sampleHistory("kafscale_operator_clusters", 0)).toHaveLength(1);
  });
});

describe("schedule", () => {
  it("an explicit scrape waits for the running tick, then scrapes the brokers the snapshot has by then", async () => {
    // The service's start-up tick can still run when the first sync lands: a scrape asked for after
    // that must not return the start-up tick's result, which knew no brokers yet.
    const held: (() => void)[] = [];
    const fetchImpl = vi.fn(
      (url: string | URL | Request) =>
        new Promise<Response>((resolve) => {
          held.push(() => resolve(new Response(String(url).endsWith("/operator") ? operatorText : sample)));
        }),
    );
    let hosts: BrokerHost[] = [];
    const { store, poller } = setup(
      { brokerUrlTemplate: "http://{host}/broker/{id}/metrics", operatorUrl: "http://operator.invalid/operator" },
      { fetchImpl, brokerHosts: () => hosts },
    );
    const first = poller.scrapeOnce();
    hosts = [{ nodeId: 7, host: "broker-7.invalid" }];
    const second = poller.scrapeOnce();
    expect(fetchImpl).toHaveBeenCalledTimes(1); // never two ticks at once
    expect(poller.stats()).toEqual({ ticks: 0, skippedTicks: 0, running: true });
    held.shift()?.();
    await first;
    await vi.waitFor(() => expect(fetchImpl).toHaveBeenCalledTimes(3), UNTIL); // operator + broker 7
    for (const release of held.splice(0)) release();
    await second;
    expect(poller.stats()).toEqual({ ticks: 2, skippedTicks: 0, running: false });
    expect(store.metrics.latest()?.brokers.map((b) => [b.nodeId, b.view?.s3State])).toEqual([[7, "healthy"]]);
  });

  it("a scrape waiting for the running tick gives up when the poller stops", async () => {
    let release: () => void = () => undefined;
    const fetchImpl = vi.fn(
      () =>
        new Promise<Response>((resolve) => {
          release = () => resolve(new Response(sample));
        }),
    );
    const { poller } = setup({ brokerUrl: "http://broker.invalid/metrics" }, { fetchImpl });
    const first = poller.scrapeOnce();
    const waiting = poller.scrapeOnce();
    const stopped = poller.stop();
    release();
    await Promise.all([first, waiting, stopped]);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(poller.stats()).toEqual({ ticks: 1, skippedTicks: 0, running: false });
  });

  it("runs on the node-cron schedule and skips ticks while a scrape is slower than the interval", async () => {
    vi.useFakeTimers({ now: new Date("2025-01-01T00:00:00.000Z") });
    const releases: (() => void)[] = [];
    const fetchImpl = vi.fn(
      () => new Promise<Response>((resolve) => releases.push(() => resolve(new Response(sample)))),
    );
    const { poller } = setup({ brokerUrl: "http://broker.invalid/metrics", timeoutMs: 120_000 }, { fetchImpl });

    poller.start(); // scrapes right away
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(45_000); // ticks at :15, :30, :45 find it still running
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(poller.stats()).toMatchObject({ ticks: 0, skippedTicks: 3, running: true });

    releases[0]?.();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(poller.stats()).toMatchObject({ ticks: 1, running: false });
    await vi.advanceTimersByTimeAsync(14_000); // the :00 tick
    expect(fetchImpl).toHaveBeenCalledTimes(2);
    releases[1]?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(poller.stats()).toEqual({ ticks: 2, skippedTicks: 3, running: false });

    await poller.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchImpl).toHaveBeenCalledTimes(2);
  });

  it("stop() aborts a scrape in flight without recording it as the target's failure", async () => {
    // The server never answers and the timeout is far away: only stop() can end this scrape.
    let requestClosed: boolean | null = null;
    routes.set("/held", (req) => {
      requestClosed = false;
      req.socket.on("close", () => (requestClosed = true));
    });
    const { store, poller } = setup({ brokerUrl: `${base}/held`, timeoutMs: 600_000 });
    const tick = poller.scrapeOnce();
    await vi.waitFor(() => expect(requestClosed).toBe(false), CONDITION);
    await poller.stop();
    await tick;
    await vi.waitFor(() => expect(requestClosed).toBe(true), CONDITION);
    expect(store.metrics.latest()?.brokers[0]?.state).toMatchObject({ lastAttemptAt: null, consecutiveFailures: 0 });
  });

  it.each([
    [15_000, "*/15 * * * * *", 15_000],
    [1_000, "* * * * * *", 1_000],
    [250, "* * * * * *", 1_000],
    [7_000, "*/6 * * * * *", 6_000],
    [45_000, "*/30 * * * * *", 30_000],
    [60_000, "0 * * * * *", 60_000],
    [90_000, "0 * * * * *", 60_000],
    [300_000, "0 */5 * * * *", 300_000],
    [7_200_000, "0 0 */2 * * *", 7_200_000],
    [5 * 3_600_000, "0 0 */4 * * *", 4 * 3_600_000],
    [48 * 3_600_000, "0 0 0 * * *", 24 * 3_600_000],
  ])("builds a cron schedule for %i ms: %s", (intervalMs, expression, everyMs) => {
    expect(cronScheduleFor(intervalMs)).toEqual({ expression, everyMs });
  });
});

describe("retention", () => {
  it("prunes samples and scrape rows past the retention, keeping the last good view", async () => {
    let clock = 10_000_000;
    routes.set("/retention", text(sample));
    const { store, poller } = setup({ brokerUrl: `${base}/retention`, retentionMs: 3_600_000 }, { now: () => clock });
    await poller.scrapeOnce(); // t0
    clock += 1_800_000;
    await poller.scrapeOnce(); // t0 + 30 min
    clock += 1_860_000;
    await poller.scrapeOnce(); // t0 + 61 min: the t0 scrape falls out
    expect(store.metrics.sampleHistory("kafscale_produce_rps", 0).map((p) => p.scrapedAt)).toEqual([
      11_800_000, 13_660_000,
    ]);

    routes.set("/retention", text("gone", 502));
    clock += 7_200_000; // two hours of failures: every sample ages out, the last good view stays
    await poller.scrapeOnce();
    expect(store.metrics.sampleHistory("kafscale_produce_rps", 0)).toEqual([]);
    const snap = store.metrics.latest();
    expect(snap?.observedAt).toBe(13_660_000);
    expect(aggregateOf(snap)).toEqual(fullView);
    expect(snap?.brokers[0]?.state.lastError).toBe("metrics request failed: 502 Bad Gateway");
  });
});

describe("targets", () => {
  it("expands {host}, {id} and {node_id}, bracketing IPv6 hosts", () => {
    expect(expandUrlTemplate("http://{host}:9093/metrics?b={id}&n={node_id}", { nodeId: 4, host: "b4.kafscale" })).toBe(
      "http://b4.kafscale:9093/metrics?b=4&n=4",
    );
    expect(expandUrlTemplate("http://{host}:9093/metrics", { nodeId: 1, host: "fd00::1" })).toBe(
      "http://[fd00::1]:9093/metrics",
    );
  });

  it("prefers the template over the single URL so no broker counts twice", () => {
    const config = {
      brokerUrl: "http://one/metrics",
      brokerUrlTemplate: "http://{host}/m",
      intervalMs: 1,
      timeoutMs: 1,
      retentionMs: 1,
    };
    expect(resolveTargets(config, () => [{ nodeId: 0, host: "b0" }]).map((t) => t.target)).toEqual(["broker:0"]);
    expect(resolveTargets({ ...config, brokerUrlTemplate: undefined }, () => []).map((t) => t.url)).toEqual([
      "http://one/metrics",
    ]);
  });
});
