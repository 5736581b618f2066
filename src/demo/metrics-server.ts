/**
 * A loopback HTTP server standing in for the demo brokers' /metrics endpoints, so `demo` runs the
 * real metrics poller (schedule, parser, aggregation) with no broker anywhere.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { demoBrokerMetrics } from "./demo-metrics.js";

export interface DemoMetricsServer {
  /** URL template for KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE ({id} = broker node id). */
  urlTemplate: string;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 and a free port. */
export async function startDemoMetricsServer(): Promise<DemoMetricsServer> {
  const server: Server = createServer((req, res) => {
    const match = /^\/broker\/(\d+)\/metrics$/.exec(req.url ?? "");
    if (req.method !== "GET" || !match) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(demoBrokerMetrics(Number(match[1])));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    urlTemplate: `http://127.0.0.1:${port}/broker/{id}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
