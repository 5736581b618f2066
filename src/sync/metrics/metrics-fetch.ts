/**
 * One bounded HTTP GET of a /metrics endpoint: a deadline over the whole exchange (connect, headers and
 * body) and a cap on the body, read as a stream so an endless or huge body never sits in memory.
 * Never rejects: every failure comes back as a short error text for the scrape state.
 */

export type ScrapeTextResult = { ok: true; text: string } | { ok: false; error: string };

export interface ScrapeTextOptions {
  fetchImpl: typeof fetch;
  timeoutMs: number;
  maxBodyBytes: number;
  /** Aborts the request from outside (poller shutdown). */
  signal?: AbortSignal;
}

const PREFIX = "metrics request failed: ";

/** Fetches `url` as text within `timeoutMs` and `maxBodyBytes`. Error texts start "metrics request failed: ". */
export async function scrapeText(url: string, opts: ScrapeTextOptions): Promise<ScrapeTextResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  const onOuterAbort = (): void => controller.abort(new Error("aborted"));
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });

  // Once the deadline passed, the reason is the deadline, whatever error the abort surfaced as.
  const fail = (what: string): ScrapeTextResult => ({
    ok: false,
    error: PREFIX + (timedOut ? `timed out after ${opts.timeoutMs} ms` : what),
  });

  try {
    let res: Response;
    try {
      res = await opts.fetchImpl(url, {
        signal: controller.signal,
        headers: { accept: "text/plain;version=0.0.4;q=1, */*;q=0.1" },
        redirect: "follow",
      });
    } catch (err) {
      return fail(networkError(err));
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return fail(`${res.status} ${res.statusText}`.trim());
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > opts.maxBodyBytes) {
      await res.body?.cancel().catch(() => undefined);
      return fail(`body exceeds ${opts.maxBodyBytes} bytes`);
    }
    return await readCapped(res, opts.maxBodyBytes, fail);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}

async function readCapped(
  res: Response,
  maxBytes: number,
  fail: (what: string) => ScrapeTextResult,
): Promise<ScrapeTextResult> {
  if (res.body === null) return { ok: true, text: "" };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return fail(`body exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    // The connection died mid-body (truncated response) or the deadline hit while reading.
    return fail(`body incomplete: ${networkError(err)}`);
  }
  return { ok: true, text: Buffer.concat(chunks).toString("utf8") };
}

/** The useful part of a fetch error: undici wraps the socket error ("connect ECONNREFUSED …") in `cause`. */
function networkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error && cause.message !== "") return cause.message;
  return err.message;
}
