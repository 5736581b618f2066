/**
 * Scheduled scrapes of Kafscale's Prometheus endpoints into the snapshot, never in the request path.
 *
 * Targets, per tick:
 * - per-broker mode (KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE, e.g. `http://{host}:9093/metrics`): one
 *   target "broker:<id>" per broker of the etcd snapshot, as Kafscale's console does. The template wins
 *   over the single URL when both are set, so a broker is never counted twice in the aggregate.
 * - single URL mode (KAFSCALE_MCP_BROKER_METRICS_URL): one target "broker:url", as the Go MCP service.
 * - the operator (KAFSCALE_MCP_OPERATOR_METRICS_URL), target "operator", in either mode.
 *
 * Robustness: all targets are scraped concurrently, each with its own timeout and body cap, and each
 * result is stored as soon as it arrives, so a slow or dead broker delays nobody. A tick that finds the
 * previous one still running is skipped (and counted), never stacked. A tick never throws.
 */
import cron, { type ScheduledTask } from "node-cron";
import type { MetricsConfig } from "../../config.js";
import type { Logger } from "../../log.js";
import { isStorageError, StorageBusyError, type ScrapeTarget, type Store } from "../../store/index.js";
import { deriveBrokerView, deriveOperatorView } from "../../kafscale/broker-view.js";
import { scrapeText } from "./metrics-fetch.js";
import { parsePrometheusText, type Sample } from "./prom-text.js";

/** A broker to scrape in per-broker mode. */
export interface BrokerHost {
  nodeId: number;
  host: string;
}

export interface MetricsPollerOptions {
  store: Pick<Store, "metrics" | "reads">;
  config: MetricsConfig;
  logger: Logger;
  /** Injected for tests; the global fetch by default. */
  fetchImpl?: typeof fetch;
  /** Clock for scrape timestamps, durations and pruning (Unix ms). */
  now?: () => number;
  /** Brokers for the URL template; by default the brokers of the etcd snapshot in the store. */
  brokerHosts?: () => BrokerHost[];
  /** Largest accepted body (default 4 MiB); a bigger one fails the scrape. */
  maxBodyBytes?: number;
}

/** Counters for the service's own /metrics and for tests. */
export interface MetricsPollerStats {
  /** Ticks that ran to completion. */
  ticks: number;
  /** Scheduled ticks skipped because the previous one still ran. */
  skippedTicks: number;
  running: boolean;
}

export interface MetricsPoller {
  /** Starts the schedule and scrapes once right away. A no-op when no metrics URL is configured. */
  start(): void;
  /** Stops the schedule, aborts scrapes in flight and waits for them to be recorded. */
  stop(): Promise<void>;
  /**
   * Scrapes now: one tick (scrape every target, store the results, prune old samples) that starts
   * after this call, so it sees the brokers the snapshot has now. A tick already running is waited
   * for first (two never overlap); a stop() meanwhile cancels it. Scheduled ticks that find one
   * running are skipped instead (counted in `skippedTicks`).
   */
  scrapeOnce(): Promise<void>;
  stats(): MetricsPollerStats;
}

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Bounds memory even for a body under the byte cap made of tiny lines. */
const MAX_SAMPLES = 100_000;

/** True when at least one metrics URL is configured (else the tools answer "metrics provider not configured"). */
export function metricsEnabled(config: MetricsConfig): boolean {
  return Boolean(config.brokerUrl ?? config.brokerUrlTemplate ?? config.operatorUrl);
}

/**
 * Age after which metrics count as stale: two missed intervals plus one timeout. One late or failed
 * scrape is normal jitter; a second one in a row means the values no longer describe the cluster.
 */
export function metricsStaleAfterMs(config: Pick<MetricsConfig, "intervalMs" | "timeoutMs">): number {
  return 2 * config.intervalMs + config.timeoutMs;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The largest divisor of `of` that is ≤ n (n ≥ 1): step values that repeat evenly across the unit. */
function evenStep(n: number, of: number): number {
  for (let d = Math.min(Math.max(1, Math.floor(n)), of); d > 1; d--) if (of % d === 0) return d;
  return 1;
}

const every = (step: number): string => (step === 1 ? "*" : `*/${step}`);

/**
 * A node-cron expression (with seconds field) for `intervalMs`, and the interval it really gives.
 *
 * Cron steps restart at every minute (hour, day), so `*\/7` seconds would fire at :56 and again at :00.
 * To keep ticks evenly spaced, the interval is rounded DOWN to a step that divides its unit evenly:
 * seconds to a divisor of 60 (7 s → 6 s, 45 s → 30 s), minutes to a divisor of 60, hours to a divisor
 * of 24, and anything of a day or more runs daily. Rounding down only makes scrapes more frequent, so
 * `metricsStaleAfterMs(config)` stays a valid bound. Below one second it runs every second.
 */
export function cronScheduleFor(intervalMs: number): { expression: string; everyMs: number } {
  if (intervalMs < MINUTE) {
    const step = evenStep(intervalMs / SECOND, 60);
    return { expression: `${every(step)} * * * * *`, everyMs: step * SECOND };
  }
  if (intervalMs < HOUR) {
    const step = evenStep(intervalMs / MINUTE, 60);
    return { expression: `0 ${every(step)} * * * *`, everyMs: step * MINUTE };
  }
  if (intervalMs < 24 * HOUR) {
    const step = evenStep(intervalMs / HOUR, 24);
    return { expression: `0 0 ${every(step)} * * *`, everyMs: step * HOUR };
  }
  return { expression: "0 0 0 * * *", everyMs: 24 * HOUR };
}

/**
 * Expands `{host}`, `{id}` and `{node_id}`. A bare IPv6 address (two or more colons) gets brackets so the
 * URL stays valid; a single colon is read as host:port and left alone.
 */
export function expandUrlTemplate(template: string, broker: BrokerHost): string {
  const ipv6 = broker.host.split(":").length > 2 && !broker.host.startsWith("[");
  const host = ipv6 ? `[${broker.host}]` : broker.host;
  return template
    .replaceAll("{host}", host)
    .replaceAll("{node_id}", String(broker.nodeId))
    .replaceAll("{id}", String(broker.nodeId));
}

/** The targets of one tick, from the configuration and the current brokers. */
export function resolveTargets(config: MetricsConfig, brokers: () => BrokerHost[]): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [];
  if (config.brokerUrlTemplate !== undefined) {
    const seen = new Set<number>();
    for (const b of [...brokers()].sort((x, y) => x.nodeId - y.nodeId)) {
      if (seen.has(b.nodeId)) continue;
      seen.add(b.nodeId);
      const url = expandUrlTemplate(config.brokerUrlTemplate, b);
      targets.push({ target: `broker:${b.nodeId}`, url, kind: "broker", nodeId: b.nodeId });
    }
  } else if (config.brokerUrl !== undefined) {
    targets.push({ target: "broker:url", url: config.brokerUrl, kind: "broker", nodeId: null });
  }
  if (config.operatorUrl !== undefined) {
    targets.push({ target: "operator", url: config.operatorUrl, kind: "operator", nodeId: null });
  }
  return targets;
}

/** Creates the poller; nothing runs until `start()` (or `scrapeOnce()`). */
export function createMetricsPoller(options: MetricsPollerOptions): MetricsPoller {
  const { store, config, logger } = options;
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const brokerHosts =
    options.brokerHosts ??
    ((): BrokerHost[] => store.reads.clusterOverview().brokers.map((b) => ({ nodeId: b.node_id, host: b.host })));

  let task: ScheduledTask | null = null;
  let inFlight: Promise<void> | null = null;
  let tickAbort: AbortController | null = null;
  let ticks = 0;
  let skippedTicks = 0;
  /** Last error per target, so a dead target logs once when it fails and once when it recovers. */
  const failing = new Map<string, string>();

  /** Fetches and parses one target: the samples, or the error text that fails the scrape. */
  const fetchSamples = async (
    t: ScrapeTarget,
    signal: AbortSignal,
  ): Promise<{ samples: Sample[] } | { error: string }> => {
    const fetched = await scrapeText(t.url, { fetchImpl, timeoutMs: config.timeoutMs, maxBodyBytes, signal });
    if (!fetched.ok) return { error: fetched.error };
    const parsed = parsePrometheusText(fetched.text, { maxSamples: MAX_SAMPLES });
    if (parsed.documentError !== null) return { error: `invalid metrics document: ${parsed.documentError}` };
    if (parsed.errors.length > 0) {
      logger.debug("metrics scrape had malformed lines", { target: t.target, errors: parsed.errors.slice(0, 5) });
    }
    return { samples: parsed.samples };
  };

  /**
   * Runs a write to the snapshot; false when its storage refused it (disk full, read-only, a large
   * write in progress). That is not the target's fault and is logged once by the service (the
   * store's health), so here it only skips this result; the next tick writes again.
   */
  const stored = (write: () => void): boolean => {
    try {
      write();
      return true;
    } catch (err) {
      if (!isStorageError(err) && !(err instanceof StorageBusyError)) throw err;
      logger.debug("metrics result not stored: snapshot storage refused the write", { error: errorText(err) });
      return false;
    }
  };

  const scrapeTarget = async (t: ScrapeTarget, signal: AbortSignal): Promise<void> => {
    const at = now();
    const result = await fetchSamples(t, signal);
    if ("samples" in result) {
      const view = t.kind === "broker" ? deriveBrokerView(result.samples) : deriveOperatorView(result.samples);
      if (!stored(() => store.metrics.recordScrape({ target: t, at, durationMs: now() - at, samples: result.samples, view }))) return;
      if (failing.delete(t.target)) logger.info("metrics scrape recovered", { target: t.target, url: t.url });
      return;
    }
    // Cut short by stop(): not the target's fault, so its state is left as it was.
    if (signal.aborted) return;
    const { error } = result;
    stored(() => store.metrics.recordFailure({ target: t, at, durationMs: now() - at, error }));
    if (failing.get(t.target) !== error) logger.warn("metrics scrape failed", { target: t.target, url: t.url, error });
    failing.set(t.target, error);
  };

  const tick = async (signal: AbortSignal): Promise<void> => {
    try {
      const targets = resolveTargets(config, brokerHosts);
      stored(() => store.metrics.syncTargets(targets));
      for (const key of failing.keys()) if (!targets.some((t) => t.target === key)) failing.delete(key);
      const results = await Promise.allSettled(targets.map((t) => scrapeTarget(t, signal)));
      for (const r of results) {
        // Only a store error can land here (scrapeText never rejects); log it, keep the other targets.
        if (r.status === "rejected") logger.warn("metrics scrape not recorded", { error: errorText(r.reason) });
      }
      stored(() => store.metrics.prune(now() - config.retentionMs));
    } catch (err) {
      logger.warn("metrics tick failed", { error: errorText(err) });
    } finally {
      ticks++;
    }
  };

  const startTick = (): Promise<void> => {
    const controller = new AbortController();
    tickAbort = controller;
    const run = tick(controller.signal).finally(() => {
      inFlight = null;
      tickAbort = null;
    });
    inFlight = run;
    return run;
  };

  /** A cron tick: skipped (and counted) while the previous tick still runs, so ticks never pile up. */
  const scheduledTick = (): void => {
    if (inFlight === null) return void startTick();
    skippedTicks++;
    logger.warn("metrics scrape still running; tick skipped", { skippedTicks, intervalMs: config.intervalMs });
  };

  /** Bumped by stop(): a scrapeOnce() still waiting for a running tick then gives up. */
  let stops = 0;
  const scrapeOnce = async (): Promise<void> => {
    const stopsAtCall = stops;
    // A loop, not one wait: another caller woken by the same tick may have started the next one.
    while (inFlight !== null) {
      await inFlight;
      if (stops !== stopsAtCall) return;
    }
    await startTick();
  };

  return {
    start: () => {
      if (task !== null) return;
      if (!metricsEnabled(config)) {
        logger.info("metrics poller disabled: no broker or operator metrics URL configured");
        return;
      }
      if (config.brokerUrlTemplate !== undefined && config.brokerUrl !== undefined) {
        logger.info("metrics URL template set; the single broker metrics URL is ignored");
      }
      const schedule = cronScheduleFor(config.intervalMs);
      if (schedule.everyMs !== config.intervalMs) {
        logger.info("scrape interval rounded to an even cron step", {
          requestedMs: config.intervalMs,
          everyMs: schedule.everyMs,
        });
      }
      task = cron.createTask(schedule.expression, scheduledTick, {
        name: "kafscale-mcp-metrics",
        // Our own guard skips and counts overlapping ticks; the timer must not keep the process alive.
        unref: true,
        logger: {
          info: (m) => logger.debug(m, { source: "node-cron" }),
          warn: (m) => logger.warn(m, { source: "node-cron" }),
          error: (m, e) => logger.warn(errorText(m), { source: "node-cron", error: e && errorText(e) }),
          debug: (m) => logger.debug(errorText(m), { source: "node-cron" }),
        },
      });
      void task.start();
      scheduledTick(); // do not leave the tools without data for a whole interval after start
    },
    stop: async () => {
      const t = task;
      task = null;
      stops++;
      if (t !== null) await t.destroy();
      tickAbort?.abort(new Error("metrics poller stopped"));
      await inFlight;
    },
    scrapeOnce,
    stats: () => ({ ticks, skippedTicks, running: inFlight !== null }),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
