/** The result budget's arithmetic (src/tools/budget.ts), without tools: sizes, cuts, clipping. */
import { describe, expect, it } from "vitest";
import { answerBytes, fitAnswer, largestFitting } from "../../src/tools/budget.js";
import { keysetCut } from "../../src/tools/paging.js";

const mcpBytes = (body: unknown): number =>
  Buffer.byteLength(JSON.stringify({ content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body }));

describe("result budget", () => {
  it.each([
    [{ a: 1 }],
    [{ quote: 'say "hi"', path: "C:\\temp", nl: "a\nb", unicode: "Zürich ✓ 🚀", ctl: "\u0001", lone: "\ud800" }],
  ])("counts an MCP result's bytes exactly, escapes and all: %j", (body) => {
    expect(answerBytes(JSON.stringify(body), "mcp")).toBe(mcpBytes(body));
    expect(answerBytes(JSON.stringify(body), "json")).toBe(Buffer.byteLength(JSON.stringify(body)));
  });

  it("cuts a list at the budget, with the cursor of the last item kept and the count left out", () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ name: `topic-${String(i).padStart(4, "0")}`, n: i }));
    const fitted = fitAnswer({ items, truncated: false }, { freshness: { stale: false } }, keysetCut("items", (t: { name: string }) => t.name), {
      maxBytes: 4096,
      form: "mcp",
    });
    expect(fitted.bytes).toBe(mcpBytes(fitted.body));
    expect(fitted.bytes).toBeLessThanOrEqual(4096);
    const kept = fitted.body.items as { name: string }[];
    expect(kept.length + (fitted.body.left_out as number)).toBe(500);
    const cursor = JSON.parse(Buffer.from(fitted.body.next_cursor as string, "base64url").toString());
    expect(cursor).toBe(kept[kept.length - 1]?.name);
    // One more item would not have fitted.
    const more = { ...fitted.body, items: items.slice(0, kept.length + 1) };
    expect(mcpBytes(more)).toBeGreaterThan(4096 - 40);
  });

  it("clips what no list cut can help, and says so", () => {
    const fitted = fitAnswer({ note: "x".repeat(100_000), count: 3 }, { freshness: { stale: false } }, null, {
      maxBytes: 4096,
      form: "json",
    });
    expect(fitted.bytes).toBeLessThanOrEqual(4096);
    expect(fitted.body).toMatchObject({ count: 3, clipped: true, freshness: { stale: false } });
    expect((fitted.body.note as string).length).toBeGreaterThan(0);
  });

  it("refuses to pretend when not even the fixed fields fit", () => {
    expect(() => fitAnswer({}, { freshness: "y".repeat(10_000) }, null, { maxBytes: 4096, form: "json" })).toThrow(
      /cannot hold/,
    );
  });

  it.each([
    ["linear", (n: number) => 100 + 37 * n, 5_000],
    ["uneven", (n: number) => 100 + 30 * n + (n % 7) * 50, 5_000],
    ["nothing fits", (n: number) => 6_000 + n, 5_000],
  ])("largestFitting finds the largest n that fits (%s)", (_name, bytesAt, max) => {
    const expected = Array.from({ length: 1_000 }, (_, i) => i + 1).filter((n) => bytesAt(n) <= max).at(-1) ?? 0;
    const found = largestFitting(1_000, bytesAt, max);
    expect(bytesAt(found) <= max || found === 0).toBe(true);
    expect(found).toBeGreaterThanOrEqual(expected * 0.9);
  });
});
