/**
 * Builds the etcd3 client from configuration (endpoints, credentials, optional TLS). Kafscale's Go
 * service has no TLS option; we accept a CA, and a client certificate and key for mutual TLS.
 *
 * Every call carries etcd's "require leader" metadata (`hasleader: true`, what Go's
 * clientv3.WithRequireLeader sends): a member that has lost its leader refuses new requests at once
 * ("etcdserver: no leader") instead of timing out, and cancels an open watch stream after three
 * election timeouts without a leader, so a member cut off from its peers cannot keep feeding us an
 * old revision as if it were the present.
 */
import { readFileSync } from "node:fs";
import { Etcd3, type IOptions, type Namespace } from "etcd3";
import type { EtcdConfig } from "../../config.js";
import { NO_FAULT_HANDLING } from "./fault-handling.js";

export type EtcdClient = Etcd3;
export type EtcdKeyspace = Namespace;

/** grpc-js call options and interceptor, as etcd3's own option types spell them (no direct grpc-js import). */
type CallOptions = Exclude<NonNullable<IOptions["defaultCallOptions"]>, (...args: never[]) => unknown>;
type Interceptor = NonNullable<CallOptions["interceptors"]>[number];
type InterceptingCall = ReturnType<Interceptor>;
type Metadata = Parameters<InterceptingCall["start"]>[0];

/** etcd's metadata key and value for "fail unless this member has a leader" (rpctypes.MetadataRequireLeaderKey). */
const REQUIRE_LEADER: readonly [string, string] = ["hasleader", "true"];

/**
 * Adds `hasleader: true` to the call's metadata. The metadata etcd3 passes is shared by every call
 * of the client (it holds the auth token), so the interceptor adds the pair to a copy.
 */
const requireLeader: Interceptor = (options, nextCall) => {
  const call = nextCall(options);
  return new Proxy(call, {
    get(target, property, receiver) {
      if (property === "start") {
        return (metadata: Metadata, listener?: Parameters<InterceptingCall["start"]>[1]) => {
          const withLeader = metadata.clone();
          withLeader.set(...REQUIRE_LEADER);
          target.start(withLeader, listener);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as InterceptingCall;
};

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * The client options for `config` (TLS files are read here, once). Throws a configuration error
 * naming the variable when there is no endpoint or a file is unreadable.
 *
 * etcd3's default fault handling (a circuit breaker per host, open for 5 s after 3 failures, and
 * a global policy retrying 3 times on another host) is switched off, deliberately: it hurts
 * failover more than it helps. The breaker keeps refusing calls for up to 5 s after etcd is back
 * (an etcd restart, or a member that failed a few short probe deadlines), and the retries repeat
 * deadline-bound calls, so a probe or page that should fail over fails late. The sync does its own
 * failover instead: one member at a time, a fresh client per attempt, backoff with jitter, and
 * one-shot reads tried on each member in turn (member-connector.ts, etcd-sync.ts).
 */
export function etcdClientOptions(config: EtcdConfig): IOptions {
  if (config.endpoints.length === 0) {
    throw new Error("KAFSCALE_MCP_ETCD_ENDPOINTS is empty; expected a comma-separated list such as http://etcd:2379");
  }
  const options: IOptions = {
    hosts: config.endpoints,
    dialTimeout: config.dialTimeoutMs,
    // grpc-js refuses responses over 4 MiB by default; Go's clientv3 (Kafscale) accepts up to 2 GiB.
    // The snapshot key alone passes 4 MiB at ~27k partitions (3 brokers), and the initial range
    // read must be able to receive it.
    grpcOptions: { "grpc.max_receive_message_length": -1 },
    defaultCallOptions: { interceptors: [requireLeader] },
    faultHandling: NO_FAULT_HANDLING,
  };
  if (config.username !== undefined) {
    options.auth = { username: config.username, password: config.password ?? "" };
  }
  if (config.caFile !== undefined || config.certFile !== undefined) {
    const tls: NonNullable<IOptions["credentials"]> = {
      // No CA file: grpc falls back to the system roots (the type says Buffer, grpc accepts null).
      rootCertificate: config.caFile
        ? readFile("KAFSCALE_MCP_ETCD_CA_FILE", config.caFile)
        : (null as unknown as Buffer),
    };
    if (config.certFile !== undefined && config.keyFile !== undefined) {
      tls.certChain = readFile("KAFSCALE_MCP_ETCD_CERT_FILE", config.certFile);
      tls.privateKey = readFile("KAFSCALE_MCP_ETCD_KEY_FILE", config.keyFile);
    }
    options.credentials = tls;
  }
  return options;
}

/** Creates a client over all configured endpoints (tests; the product dials through member-connector.ts). */
export function createEtcdClient(config: EtcdConfig): EtcdClient {
  return new Etcd3(etcdClientOptions(config));
}

/** The keyspace the service reads: the whole client, or a namespace when one is configured. */
export function keyspaceOf(client: EtcdClient, namespace: string): EtcdKeyspace {
  return namespace === "" ? client : client.namespace(namespace);
}
