/**
 * What the etcd fault tests share: a writer that keeps trying until the cluster accepts a write
 * (leader elections make single attempts fail), the answer an agent gets for one partition's end
 * offset, and the service started against a cluster with short probe settings.
 */
import { randomUUID } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { expect, vi } from "vitest";
import { Etcd3, type IOptions, type Namespace } from "etcd3";
import { encodeNextOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import type { RunningService } from "../../src/service.js";
import { realisticCluster, writeCluster } from "./fixtures.js";
import { callTool, connectClient, startTestService } from "./service.js";

/** Probe settings for fault tests: a stalled or isolated member is given up within ~1 s. */
export const FAST_LINK = {
  KAFSCALE_MCP_LINK_PROBE_INTERVAL: "200ms",
  KAFSCALE_MCP_LINK_PROBE_TIMEOUT: "1s",
  KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "2s",
  KAFSCALE_MCP_ETCD_BACKOFF_MAX: "500ms",
};

export interface Writer {
  namespace: string;
  keyspace: Namespace;
  /** Puts the end offset of orders/0 and returns the revision, retrying for up to 20 s. */
  putEndOffset(offset: number): Promise<number>;
  close(): void;
}

/**
 * A test-side client (etcd3's own retries on) writing a realistic cluster into a fresh namespace on
 * `endpoints`; `options` adds credentials or TLS.
 */
export async function clusterWriter(
  endpoints: string[],
  options: Partial<IOptions> = {},
  namespace = `/test-${randomUUID()}`,
): Promise<Writer> {
  const client = new Etcd3({ ...options, hosts: endpoints });
  const keyspace = client.namespace(namespace);
  const retrying = async <T>(write: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await retrying(() => writeCluster(keyspace, realisticCluster));
  return {
    namespace,
    keyspace,
    putEndOffset: async (offset) =>
      retrying(async () => {
        const res = await keyspace
          .put(keys.nextOffset("orders", 0))
          .value(encodeNextOffset(offset))
          .options({ deadline: new Date(Date.now() + 2000) })
          .exec();
        return Number(res.header.revision);
      }),
    close: () => client.close(),
  };
}

export interface OffsetAnswer {
  endOffset: number;
  freshness: {
    revision: number;
    stale: boolean;
    stale_reasons: string[];
    etcd_link: string;
    etcd_last_error: string | null;
  };
}

/** What an agent sees: fetch_offsets for billing on orders/0, with its freshness. */
export async function orders0(client: Client): Promise<OffsetAnswer> {
  const answer = await callTool<{ offsets: { end_offset: number }[]; freshness: OffsetAnswer["freshness"] }>(
    client,
    "fetch_offsets",
    { group_id: "billing", topics: ["orders"], freshness: "full" },
  );
  return { endOffset: answer.offsets[0]?.end_offset ?? -1, freshness: answer.freshness };
}

/** Starts the service against `endpoints` in `namespace` with FAST_LINK and a snapshot file at `dbPath`. */
export async function startClusterService(
  endpoints: string[],
  namespace: string,
  env: Record<string, string> = {},
): Promise<RunningService> {
  return startTestService(endpoints.join(","), namespace, { ...FAST_LINK, ...env });
}

/**
 * The service against `endpoints` with its etcd link confirmed (`connected`), and an SDK client
 * connected to it; `defer` registers their cleanup.
 */
export async function connectedService(
  endpoints: string[],
  namespace: string,
  env: Record<string, string>,
  defer: (cleanup: () => Promise<void> | void) => void,
): Promise<{ service: RunningService; client: Client }> {
  const service = await startClusterService(endpoints, namespace, env);
  defer(() => service.close());
  await service.sync?.ready();
  const client = await connectClient(service.url as string);
  defer(() => client.close());
  await vi.waitFor(async () => expect((await orders0(client)).freshness.etcd_link).toBe("connected"), 10_000);
  return { service, client };
}

/** /readyz status and reason. */
export async function readiness(service: RunningService): Promise<{ status: number; reason: string | null }> {
  const res = await fetch(`${service.url}/readyz`);
  return { status: res.status, reason: ((await res.json()) as { reason: string | null }).reason };
}
