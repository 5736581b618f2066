/**
 * src/http/requests-in-flight.ts over real HTTP: what the lag evaluator's slices wait for.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { describe, expect, it, vi } from "vitest";
import { createRequestsInFlight, type RequestsInFlight } from "../../src/http/requests-in-flight.js";
import { UNTIL } from "../support/conditions.js";
import { useCleanups } from "../support/harness.js";

const { defer } = useCleanups();

/** An app whose /slow (any method) and GET /mcp answer only when the test releases them. */
async function serve(): Promise<{ url: string; inFlight: RequestsInFlight; arrival(n: number): Promise<() => void> }> {
  const inFlight = createRequestsInFlight(["/mcp", "/mcp/"]);
  // The release of every request a handler holds, in order of arrival.
  const released: Array<() => void> = [];
  const hold = (res: express.Response, answer: () => void): void => {
    let release = (): void => undefined;
    void new Promise<void>((resolve) => (release = resolve)).then(answer);
    released.push(release);
  };
  const app = express();
  app.use(inFlight.middleware);
  app.all("/slow", (_req, res) => hold(res, () => void res.end("done")));
  app.get("/mcp", (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    res.write(": open\n\n");
    hold(res, () => void res.end());
  });
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const release of released) release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inFlight,
    arrival: async (n) => {
      await vi.waitFor(() => expect(released.length).toBeGreaterThanOrEqual(n), UNTIL);
      return released[n - 1] as () => void;
    },
  };
}

describe("requests in flight", () => {
  it("counts a request from its arrival until its response has finished", async () => {
    const { url, inFlight, arrival } = await serve();
    expect(inFlight.busy()).toBe(false);
    const answer = fetch(`${url}/slow`, { method: "POST", body: "{}" });
    const release = await arrival(1);
    expect(inFlight.busy()).toBe(true);
    expect(inFlight.count()).toBe(1);
    release();
    expect(await (await answer).text()).toBe("done");
    await vi.waitFor(() => expect(inFlight.busy()).toBe(false), UNTIL);
    expect(inFlight.count()).toBe(0);
  });

  it("never counts the MCP event stream a session keeps open, and counts the calls beside it", async () => {
    const { url, inFlight, arrival } = await serve();
    const stream = await fetch(`${url}/mcp`, { headers: { Accept: "text/event-stream" } });
    expect(stream.status).toBe(200);
    await arrival(1);
    expect(inFlight.busy()).toBe(false);
    // Express routes paths without regard to case: the same stream.
    const upper = await fetch(`${url}/MCP/`, { headers: { Accept: "text/event-stream" } });
    expect(upper.status).toBe(200);
    await arrival(2);
    expect(inFlight.busy()).toBe(false);
    const call = fetch(`${url}/slow`, { method: "POST", body: "{}" });
    const release = await arrival(3);
    expect(inFlight.count()).toBe(1);
    release();
    await (await call).text();
    await vi.waitFor(() => expect(inFlight.count()).toBe(0), UNTIL);
    await stream.body?.cancel();
    await upper.body?.cancel();
  });

  it("stops counting a request whose client went away before the answer, once", async () => {
    const { url, inFlight, arrival } = await serve();
    const abort = new AbortController();
    const answer = fetch(`${url}/slow`, { method: "POST", body: "{}", signal: abort.signal }).catch((err: unknown) => err);
    await arrival(1);
    expect(inFlight.count()).toBe(1);
    abort.abort();
    expect(await answer).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(inFlight.count()).toBe(0), UNTIL);
    // Its close was counted once: the next request is one again, and none after its answer.
    const second = fetch(`${url}/slow`);
    const release = await arrival(2);
    expect(inFlight.count()).toBe(1);
    release();
    await (await second).text();
    await vi.waitFor(() => expect(inFlight.count()).toBe(0), UNTIL);
  });
});
