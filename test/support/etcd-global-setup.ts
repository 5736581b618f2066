/**
 * Vitest global setup: one real etcd for the whole run. Never skips: if etcd is missing or cannot
 * start, the run fails with an install hint.
 */
import type { TestProject } from "vitest/node";
import { startEtcd, type EtcdProcess } from "../../bench/lib/etcd-process.js";

declare module "vitest" {
  export interface ProvidedContext {
    etcdEndpoint: string;
    etcdMetricsUrl: string;
  }
}

let etcd: EtcdProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  etcd = await startEtcd();
  project.provide("etcdEndpoint", etcd.endpoint);
  project.provide("etcdMetricsUrl", etcd.metricsUrl);
}

export async function teardown(): Promise<void> {
  await etcd?.destroy();
}
