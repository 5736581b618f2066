/**
 * Where the sync (and the one-shot readers: `snapshot`, `verify`) get their etcd connection from.
 *
 * The service talks to ONE member at a time (`rotatingConnector`): the range read, the watch and
 * the link probe all run on the same client, so a probe that succeeds proves something about the
 * member that feeds the watch (etcd3's pool would pick a random host per call). After a failure the
 * sync calls `failover()`: the client is closed and the next `current()` dials the next endpoint
 * with a new client. A new client also means a new TCP connection (a Kubernetes Service address
 * lands on a member again, likely a healthy one) and a fresh auth token (etcd's simple tokens die
 * with an etcd restart).
 *
 * etcd3's own circuit breaker and retries are off (etcd-client.ts says why); this is the failover.
 */
import { Etcd3 } from "etcd3";
import type { EtcdConfig } from "../../config.js";
import { etcdClientOptions, keyspaceOf, type EtcdClient, type EtcdKeyspace } from "./etcd-client.js";

export interface EtcdConnection {
  client: EtcdClient;
  keyspace: EtcdKeyspace;
  /** Which endpoint this is, for logs ("2/3 http://etcd-1:2379"); never shown to agents. */
  label: string;
}

export interface EtcdConnector {
  /** How many members one round of failovers visits (the endpoints; 1 for a caller-owned client). */
  readonly members: number;
  /** The connection to use now (dialled on first use after a failover). */
  current(): EtcdConnection;
  /** Gives up the current connection after a failure; the next current() dials the next endpoint. */
  failover(): void;
  /** Closes the current connection (the connector can still dial again). */
  close(): void;
}

/** Where an etcd reader gets etcd from: a connector, or a client and keyspace owned by the caller (tests). */
export type EtcdSource = { connector: EtcdConnector } | { client: EtcdClient; keyspace: EtcdKeyspace };

/** The connector of `source`; a caller-owned client becomes a connector that never fails over or closes it. */
export function connectorOf(source: EtcdSource): EtcdConnector {
  if ("connector" in source) return source.connector;
  const connection: EtcdConnection = { client: source.client, keyspace: source.keyspace, label: "client" };
  return { members: 1, current: () => connection, failover: () => undefined, close: () => undefined };
}

/**
 * One member at a time, through the configured endpoints in turn. Throws a configuration error at
 * once (no endpoint, unreadable TLS file), not at the first dial.
 */
export function rotatingConnector(config: EtcdConfig): EtcdConnector {
  const base = etcdClientOptions(config);
  const endpoints = config.endpoints;
  let index = 0;
  let connection: EtcdConnection | null = null;
  const close = (): void => {
    connection?.client.close();
    connection = null;
  };
  return {
    members: endpoints.length,
    current: () => {
      if (connection) return connection;
      const endpoint = endpoints[index % endpoints.length] as string;
      const client = new Etcd3({ ...base, hosts: [endpoint] });
      connection = {
        client,
        keyspace: keyspaceOf(client, config.namespace),
        label: `${(index % endpoints.length) + 1}/${endpoints.length} ${endpoint}`,
      };
      return connection;
    },
    failover: () => {
      close();
      index++;
    },
    close,
  };
}
