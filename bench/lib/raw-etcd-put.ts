/**
 * etcd's Put over plain HTTP/2 (node:http2), for the freshness writer only: a gRPC unary call is one
 * POST of a length-prefixed protobuf, and a PutRequest is two length-delimited fields. The load
 * generator shares the benchmark's two cores with etcd and the service under test, so its own cost
 * is part of what the service is measured against: through the harness's writer at 2,000 puts/s,
 * etcd3's grpc-js client used 7.85 s of CPU in 10 s, this one 3.79 s (2026-11-26, bench/etcd-alone.ts).
 * Kafscale's brokers write from other machines in production, so the cheaper generator is the fairer
 * one. The service itself keeps reading through etcd3.
 */
import http2 from "node:http2";

export interface RawEtcdPutter {
  /** Resolves when etcd acknowledged the put; rejects with etcd's gRPC status and message otherwise. */
  put(key: string, value: Uint8Array): Promise<void>;
  close(): void;
}

const PUT_PATH = "/etcdserverpb.KV/Put";

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}

/** A gRPC message frame (not compressed, 4-byte big-endian length) around `PutRequest{key: 1, value: 2}`. */
export function putRequestFrame(key: Uint8Array, value: Uint8Array): Buffer {
  const message = Buffer.concat([
    Buffer.from([0x0a, ...varint(key.length)]),
    key,
    Buffer.from([0x12, ...varint(value.length)]),
    value,
  ]);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** One HTTP/2 session to `endpoint` (http://host:port), every put a stream on it, as grpc-js does. */
export function rawEtcdPutter(endpoint: string): RawEtcdPutter {
  const session = http2.connect(endpoint);
  let sessionError: Error | undefined;
  // A broken session fails every put issued afterwards, through the streams' own errors.
  session.on("error", (err) => (sessionError = err));

  const put = (key: string, value: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      if (sessionError) return reject(sessionError);
      const stream = session.request({
        ":method": "POST",
        ":path": PUT_PATH,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status: string | undefined;
      let message: string | undefined;
      const note = (headers: http2.IncomingHttpHeaders): void => {
        if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
        if (headers["grpc-message"] !== undefined) message = decodeURIComponent(String(headers["grpc-message"]));
      };
      // A failure may come as a trailers-only response (status in the headers).
      stream.on("response", note);
      stream.on("trailers", note);
      stream.on("data", () => {});
      stream.on("end", () =>
        status === "0" ? resolve() : reject(new Error(`etcd Put failed: gRPC status ${status ?? "missing"}${message ? `: ${message}` : ""}`)),
      );
      stream.on("error", reject);
      stream.end(putRequestFrame(Buffer.from(key), value));
    });

  return { put, close: () => session.close() };
}
