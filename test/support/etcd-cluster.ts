/**
 * A three-member etcd cluster started by a test: on loopback (distinct ports), or each member in
 * its own network namespace (test/support/netns.ts) when the test needs a partition. Members can be
 * killed, restarted, paused and (in namespaces) cut off from their peers while their client port
 * stays reachable, as when one etcd pod is partitioned from the others.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { assertEtcdInstalled, etcdBinary, freePort, waitHealthy } from "../../bench/lib/etcd-process.js";
import { createPrivateNetwork, type PrivateNetwork } from "./netns.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

export interface ClusterMember {
  name: string;
  /** Client endpoint as the test process reaches it (http://127.0.0.1:port). */
  endpoint: string;
  /** The member's process ID while it runs, else 0. */
  readonly pid: number;
  readonly running: boolean;
  /** Starts the member again on its data dir; resolves once its client port answers (a leader may still be missing). */
  start(): Promise<void>;
  /** Kills the member (SIGKILL unless told otherwise) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface EtcdCluster {
  members: ClusterMember[];
  /** Every member's client endpoint. */
  endpoints: string[];
  /** Cuts member `index` off from its peers (namespaces only); its client port stays reachable. */
  isolate(index: number): void;
  heal(index: number): void;
  /** One address in front of every member, each new connection to the next (a Kubernetes Service). */
  serviceAddress(): Promise<string>;
  /** Waits until every running member reports a leader (/health). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The index of the member that currently leads (asked of the running members). */
  leaderIndex(): Promise<number>;
  /** Kills every member and removes data dirs, proxies and namespaces; safe after a failure. */
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /** "netns" puts each member in its own namespace (root only), so isolate() works. Default loopback. */
  network?: "loopback" | "netns";
  /** More etcd flags for every member. */
  extraArgs?: string[];
}

interface MemberPlan {
  name: string;
  args: string[];
  /** Wraps the command (ip netns exec …) or not. */
  command: [string, ...string[]];
  cwd: string;
  endpoint: string;
}

/** Starts three members and waits until the cluster has a leader. */
export async function startEtcdCluster(options: ClusterOptions = {}): Promise<EtcdCluster> {
  assertEtcdInstalled();
  const root = mkdtempSync(join(tmpdir(), "kafscale-mcp-etcd-cluster-"));
  const proxies: TcpProxy[] = [];
  let network: PrivateNetwork | null = null;
  const members: ClusterMember[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.stop("SIGKILL")));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    network?.destroy();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const plans = options.network === "netns" ? await planNetns(root, (n) => (network = n), proxies) : await planLoopback(root);
    for (const plan of plans) {
      plan.args.push("--log-level", "error", "--logger", "zap", ...(options.extraArgs ?? []));
      members.push(memberProcess(plan));
    }
    await Promise.all(members.map((m) => m.start()));
    const cluster: EtcdCluster = {
      members,
      endpoints: members.map((m) => m.endpoint),
      isolate: (index) => requireNetwork(network).isolate(index),
      heal: (index) => requireNetwork(network).heal(index),
      serviceAddress: async () => {
        const proxy = await startTcpProxy(requireNetwork(network).members.map((_, i) => socketPath(root, i)));
        proxies.push(proxy);
        return proxy.endpoint;
      },
      waitHealthy: async (timeoutMs = 20_000) => {
        await Promise.all(
          members.filter((m) => m.running).map((m) => waitUntil(() => isHealthy(m.endpoint), timeoutMs, `${m.name} healthy`)),
        );
      },
      leaderIndex: async () => {
        for (const [index, member] of members.entries()) {
          if (!member.running) continue;
          const client = new Etcd3({ hosts: [member.endpoint] });
          try {
            const status = await client.maintenance.status({ deadline: new Date(Date.now() + 2000) });
            if (status.leader === status.header.member_id) return index;
          } catch {
            // not answering: not the leader we are looking for
          } finally {
            client.close();
          }
        }
        throw new Error("no member leads");
      },
      destroy,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await destroy();
    throw err;
  }
}

function requireNetwork(network: PrivateNetwork | null): PrivateNetwork {
  if (!network) throw new Error("this cluster runs on loopback; start it with { network: 'netns' } to partition it");
  return network;
}

const socketPath = (root: string, index: number): string => join(root, `m${index + 1}`, "client.sock:0");

async function planLoopback(root: string): Promise<MemberPlan[]> {
  const ports = [];
  for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initial = ports.map((p, i) => `m${i + 1}=http://127.0.0.1:${p.peer}`).join(",");
  return ports.map((p, i) => {
    const name = `m${i + 1}`;
    const endpoint = `http://127.0.0.1:${p.client}`;
    const cwd = join(root, name);
    mkdirSync(cwd);
    return {
      name,
      cwd,
      endpoint,
      command: [etcdBinary()],
      args: [
        ...memberArgs(name, initial, `http://127.0.0.1:${p.peer}`),
        "--listen-client-urls", endpoint,
        "--advertise-client-urls", endpoint,
      ],
    };
  });
}

async function planNetns(
  root: string,
  keep: (network: PrivateNetwork) => void,
  proxies: TcpProxy[],
): Promise<MemberPlan[]> {
  const network = createPrivateNetwork(3);
  keep(network);
  const initial = network.members.map((m, i) => `m${i + 1}=http://${m.address}:2380`).join(",");
  const plans: MemberPlan[] = [];
  for (const [i, member] of network.members.entries()) {
    const name = `m${i + 1}`;
    const cwd = join(root, name);
    mkdirSync(cwd);
    // The client port is a Unix socket in the member's dir (etcd names it after the URL's host:
    // "client.sock:0"), reached from the root namespace through a loopback proxy.
    const proxy = await startTcpProxy([socketPath(root, i)]);
    proxies.push(proxy);
    plans.push({
      name,
      cwd,
      endpoint: proxy.endpoint,
      command: ["ip", "netns", "exec", member.namespace, etcdBinary()],
      args: [
        ...memberArgs(name, initial, `http://${member.address}:2380`),
        "--listen-client-urls", `http://${member.address}:2379,unix://client.sock:0`,
        "--advertise-client-urls", `http://${member.address}:2379`,
      ],
    });
  }
  return plans;
}

function memberArgs(name: string, initialCluster: string, peerUrl: string): string[] {
  return [
    "--name", name,
    "--data-dir", "data",
    "--listen-peer-urls", peerUrl,
    "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", initialCluster,
    "--initial-cluster-state", "new",
    "--initial-cluster-token", "kafscale-mcp-test",
  ];
}

function memberProcess(plan: MemberPlan): ClusterMember {
  let child: ChildProcess | null = null;
  let output = "";
  const [command, ...prefix] = plan.command;
  return {
    name: plan.name,
    endpoint: plan.endpoint,
    get pid() {
      return child?.pid ?? 0;
    },
    get running() {
      return child !== null;
    },
    start: async () => {
      if (child) return;
      output = "";
      const started = spawn(command, [...prefix, ...plan.args], { cwd: plan.cwd, stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-4000);
      };
      started.stdout?.on("data", keep);
      started.stderr?.on("data", keep);
      // /version answers as soon as the client port listens; /health would need a leader (quorum).
      await waitHealthy(`${plan.endpoint}/version`, started, () => `${plan.name}: ${output}`);
    },
    stop: async (signal = "SIGKILL") => {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once("exit", () => resolve());
        running.kill(signal);
        setTimeout(() => running.kill("SIGKILL"), 5000).unref();
      });
    },
  };
}

async function isHealthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`etcd cluster: ${what} not reached within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
