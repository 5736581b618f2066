/**
 * One etcd watch on its own gRPC stream, with responses decoded lazily (src/sync/etcd/watch-wire.ts)
 * instead of by the etcd3 client, whose whole-response decoding runs a 192 MB heap out of memory on
 * a revision that deletes 400k keys. The stream is opened through the etcd3 client's connection
 * pool, so endpoints, TLS, credentials and auth tokens are the client's own.
 *
 * No automatic resume: any failure ends the stream, and the caller (src/sync/etcd/etcd-sync.ts)
 * resumes from the revision the store committed, which is always right.
 */
import { EventEmitter } from "node:events";
import type { EtcdKeyspace } from "./etcd-client.js";
import { decodeWatchResponse, encodeWatchCreate, type WatchFrame } from "./watch-wire.js";

/** What we use of a grpc-js bidirectional call. */
interface GrpcCall {
  write(message: Buffer): boolean;
  cancel(): void;
  pause(): void;
  resume(): void;
  on(event: "data", listener: (frame: WatchFrame) => void): this;
  on(event: "error", listener: (err: Error & { code?: number }) => void): this;
  on(event: "end", listener: () => void): this;
}

/** What we use of the etcd3 client's connection pool (etcd3 keeps it protected; it is stable API of its ConnectionPool). */
interface ConnectionPool {
  withConnection<T>(
    service: "Watch",
    fn: (connection: {
      client: {
        makeBidiStreamRequest(
          method: string,
          serialize: (request: Buffer) => Buffer,
          deserialize: (bytes: Buffer) => WatchFrame,
          metadata: unknown,
          options?: object,
        ): GrpcCall;
      };
      metadata: unknown;
    }) => T,
  ): Promise<T>;
  authenticator?: { invalidateMetadata(): void };
  /** The client's default call options (etcd-client.ts: the require-leader interceptor), or a factory of them. */
  callOptionsFactory?: object | ((context: object) => object);
}

/** gRPC status UNAUTHENTICATED: the auth token expired; the pool fetches a new one next time. */
const UNAUTHENTICATED = 16;

export interface WatchStreamEvents {
  /** etcd created the watch; etcd's revision at creation. */
  connected: [headerRevision: number];
  /** A response with events, or a progress notification (no events). */
  frame: [WatchFrame];
  /** etcd cancelled the watch (compaction, or an error on its side). */
  canceled: [reason: string, compactRevision: number];
  /** The stream failed or ended. */
  failed: [Error];
}

export interface WatchStream extends EventEmitter<WatchStreamEvents> {
  /** Stops delivering frames (gRPC flow control holds etcd back) until resume(). */
  pause(): void;
  resume(): void;
  /** Ends the stream; no event follows. */
  cancel(): void;
}

/** Watches every key under `prefix` (within the keyspace's namespace) from `startRevision`. */
export function openWatchStream(keyspace: EtcdKeyspace, prefix: string, startRevision: number): WatchStream {
  const events = new EventEmitter<WatchStreamEvents>();
  const namespace = keyspace.prefix;
  const pool = (keyspace as unknown as { pool: ConnectionPool }).pool;
  const key = Buffer.concat([namespace, Buffer.from(prefix)]);
  // The same call options etcd3 gives its own streams: every call carries require-leader metadata.
  const factory = pool.callOptionsFactory;
  const callOptions =
    typeof factory === "function" ? factory({ service: "Watch", method: "watch", isStream: true }) : factory;
  let call: GrpcCall | null = null;
  let done = false;
  let paused = false;

  const finish = (err: Error): void => {
    if (done) return;
    done = true;
    call?.cancel();
    events.emit("failed", err);
  };

  pool
    .withConnection("Watch", ({ client, metadata }) =>
      client.makeBidiStreamRequest(
        "/etcdserverpb.Watch/Watch",
        (request) => request,
        (bytes) => decodeWatchResponse(bytes, namespace.length),
        metadata,
        callOptions,
      ),
    )
    .then((opened) => {
      if (done) {
        // A cancelled call still reports its cancellation as an error; nobody needs it.
        opened.on("error", () => undefined);
        opened.cancel();
        return;
      }
      call = opened;
      if (paused) opened.pause();
      opened.on("data", (frame) => {
        if (done) return;
        if (frame.canceled) {
          done = true;
          opened.cancel();
          events.emit("canceled", frame.cancelReason || "watch canceled by etcd", frame.compactRevision);
        } else if (frame.created) events.emit("connected", frame.headerRevision);
        else events.emit("frame", frame);
      });
      opened.on("error", (err) => {
        if (err.code === UNAUTHENTICATED) pool.authenticator?.invalidateMetadata();
        finish(err);
      });
      opened.on("end", () => finish(new Error("watch stream ended")));
      opened.write(encodeWatchCreate({ key, rangeEnd: prefixEnd(key), startRevision }));
    })
    .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));

  return Object.assign(events, {
    pause: () => {
      paused = true;
      call?.pause();
    },
    resume: () => {
      paused = false;
      call?.resume();
    },
    cancel: () => {
      done = true;
      call?.cancel();
    },
  });
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
