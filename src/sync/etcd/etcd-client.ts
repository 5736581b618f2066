/**
 * Builds the etcd3 client from configuration (endpoints, credentials, optional TLS). Kafscale's Go
 * service has no TLS option; we accept a CA, and a client certificate and key for mutual TLS.
 */
import { readFileSync } from "node:fs";
import { Etcd3, type IOptions, type Namespace } from "etcd3";
import type { EtcdConfig } from "../../config.js";

export type EtcdClient = Etcd3;
export type EtcdKeyspace = Namespace;

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Creates the client; throws a configuration error naming the variable when a file is unreadable. */
export function createEtcdClient(config: EtcdConfig): EtcdClient {
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
  return new Etcd3(options);
}

/** The keyspace the service reads: the whole client, or a namespace when one is configured. */
export function keyspaceOf(client: EtcdClient, namespace: string): EtcdKeyspace {
  return namespace === "" ? client : client.namespace(namespace);
}
