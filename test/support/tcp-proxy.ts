/**
 * A loopback TCP front for etcd client ports that live behind Unix sockets (members inside network
 * namespaces) — and, given several backends, a stand-in for a Kubernetes Service address: each new
 * connection goes to the next backend in turn, the way kube-proxy spreads connections.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** http://127.0.0.1:port */
  endpoint: string;
  close(): Promise<void>;
}

/** Listens on a free loopback port and pipes each connection to the next of `backends` (Unix socket paths). */
export async function startTcpProxy(backends: string[]): Promise<TcpProxy> {
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const path = backends[next++ % backends.length] as string;
    const upstream = connect(path);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
