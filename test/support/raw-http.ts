/** Raw HTTP for tests that need exact status codes and headers (node:http: fetch cannot set Host). */
import { request } from "node:http";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Sends `method` to `url` with a JSON body (or none) and collects the whole answer. */
export async function rawRequest(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          accept: "application/json, text/event-stream",
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") out[k] = v;
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: out, text, json: <T,>() => JSON.parse(text) as T });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The JSON-RPC messages of an SSE or JSON answer. */
export function rpcMessages(response: RawResponse): Record<string, any>[] {
  if (!(response.headers["content-type"] ?? "").includes("text/event-stream")) return [response.json()];
  return response.text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, any>);
}
