/**
 * The result budget: no tool answer is larger than a fixed number of bytes, whatever the cluster's
 * size. Over MCP the budget counts the whole CallToolResult — the JSON text copy (escaped inside a
 * string) and `structuredContent` together — because that is what an agent's client receives and
 * pays for; over REST it counts the one JSON body.
 *
 * A list stops where the budget is spent, and the answer says so (`truncated`, `next_cursor`,
 * `left_out`) through the tool's own `ListCut`, so paging resumes exactly after the last item sent.
 * An item too large on its own is split where the tool knows how (a topic's partitions), else
 * clipped; anything still too large is clipped generically. A clipped answer says `clipped: true`.
 * Nothing is ever sent whole past the budget.
 */

/** How an answer is measured: the MCP result (two copies) or one JSON body (REST). */
export interface ResultBudget {
  maxBytes: number;
  form: "mcp" | "json";
}

/** Paging fields a ListCut puts in place of the handler's own when the budget shortens its list. */
export type CutFields = Record<string, unknown>;

/** A list in an answer that the budget may shorten, and what the answer says when it does. */
export interface ListCut<T = unknown> {
  /** The output field holding the list. */
  field: string;
  /** The paging fields for an answer holding only `kept` (a prefix of the list); `leftOut` items follow it on this page. */
  after(kept: readonly T[], leftOut: number): CutFields;
  /**
   * A shortened copy of an item too large to send whole, and the paging fields that resume inside
   * it (`leftOut` items follow it on this page); `room.bytesOf` measures the answer with a
   * candidate, which must not exceed `room.maxBytes`. Null when no useful part fits.
   */
  split?(item: T, leftOut: number, room: SplitRoom<T>): { head: T; fields: CutFields } | null;
}

/** What a split may spend: the answer's bytes with a candidate part, and the most it may take. */
export interface SplitRoom<T> {
  bytesOf(head: T, fields: CutFields): number;
  maxBytes: number;
}

/**
 * The largest n in [1, max] whose answer fits (0 if not even 1 does), for answers that grow about
 * linearly with n: a guess from the size of a small sample, then a few corrections. A few
 * measurements of a full answer instead of one per halving.
 */
export function largestFitting(max: number, bytesAt: (n: number) => number, maxBytes: number): number {
  const one = bytesAt(1);
  if (one > maxBytes) return 0;
  if (max <= 1) return 1;
  const sample = Math.min(max, 16);
  const perItem = Math.max(1, (bytesAt(sample) - one) / (sample - 1));
  let best = 1;
  let n = Math.min(max, 1 + Math.floor((maxBytes - one) / perItem));
  for (let tries = 0; tries < 6 && n > best; tries++) {
    const bytes = bytesAt(n);
    if (bytes <= maxBytes) {
      best = n;
      n = Math.min(max, n + Math.floor((maxBytes - bytes) / perItem));
    } else {
      n = Math.max(best, n - Math.ceil((bytes - maxBytes) / perItem));
    }
  }
  return best;
}

/** An answer that fits: the body to send, its JSON text and the bytes it takes. */
export interface FittedAnswer {
  body: Record<string, unknown>;
  text: string;
  bytes: number;
}

const EMPTY_RESULT = JSON.stringify({ content: [{ type: "text", text: "" }], structuredContent: null });
/** Bytes of the MCP result around its two copies: `""` and `null` are where they go. */
const MCP_ENVELOPE = Buffer.byteLength(EMPTY_RESULT) - 2 - 4;

/**
 * Bytes of `text` as a JSON string: JSON text holds no raw control characters (they are escaped
 * already), so only quotes and backslashes grow, by one byte each, plus the two quotes around it.
 */
function quotedBytes(text: string): number {
  let escapes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) escapes++;
  }
  return Buffer.byteLength(text) + escapes + 2;
}

/** Bytes the answer with JSON `text` takes in `form`. */
export function answerBytes(text: string, form: ResultBudget["form"]): number {
  const json = Buffer.byteLength(text);
  return form === "json" ? json : MCP_ENVELOPE + json + quotedBytes(text);
}

/** Bytes one list item adds (with its comma) in `form`: an estimate used to choose where to cut. */
function itemBytes(item: unknown, form: ResultBudget["form"]): number {
  const text = JSON.stringify(item) ?? "null";
  return answerBytes(text, form) - (form === "json" ? 0 : MCP_ENVELOPE + 2) + (form === "json" ? 1 : 2);
}

/** Keys never shortened by clipping: a shortened cursor would break paging. */
const UNCLIPPABLE = new Set(["next_cursor"]);

/** Clipping steps, from gentle to harsh: longest string kept, longest array kept. */
const CLIP_STEPS: readonly [number, number][] = [
  [4096, 1000],
  [1024, 200],
  [256, 50],
  [64, 10],
  [16, 2],
  [0, 0],
];

function shrink(value: unknown, maxString: number, maxArray: number): unknown {
  if (typeof value === "string") return value.length > maxString ? value.slice(0, maxString) : value;
  if (Array.isArray(value)) return value.slice(0, maxArray).map((v) => shrink(v, maxString, maxArray));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, UNCLIPPABLE.has(k) ? v : shrink(v, maxString, maxArray)]),
    );
  }
  return value;
}

/** The gentlest clipped copy of `value` that `fits`, or null if even the harshest does not. */
function clipToFit<T>(value: T, fits: (candidate: T) => boolean): T | null {
  for (const [maxString, maxArray] of CLIP_STEPS) {
    const candidate = shrink(value, maxString, maxArray) as T;
    if (fits(candidate)) return candidate;
  }
  return null;
}

/**
 * The most items of `items` whose answer fits (0 if not even one does). Item sizes give a first
 * guess; each real answer over the budget then drops as many items as its excess needs.
 */
function longestPrefix(
  items: readonly unknown[],
  withPrefix: (n: number) => FittedAnswer,
  budget: ResultBudget,
): number {
  const one = withPrefix(1);
  if (one.bytes > budget.maxBytes) return 0;
  const costs: number[] = [];
  let room = budget.maxBytes - one.bytes;
  let n = 1;
  while (n < items.length) {
    const cost = itemBytes(items[n], budget.form);
    if (cost > room) break;
    costs[n] = cost;
    room -= cost;
    n++;
  }
  for (;;) {
    if (n <= 1) return 1;
    const answer = withPrefix(n);
    if (answer.bytes <= budget.maxBytes) return n;
    let excess = answer.bytes - budget.maxBytes;
    while (n > 1 && excess > 0) excess -= costs[--n] ?? 0;
  }
}

/**
 * Fits `data` plus `tail` (fields that are never cut, e.g. freshness) into the budget: cuts the
 * list named by `cut`, splits or clips an oversized item, clips what is left as a last resort.
 * Throws if not even the tail fits (the configuration refuses budgets that small).
 */
export function fitAnswer(
  data: Record<string, unknown>,
  tail: Record<string, unknown>,
  cut: ListCut | null,
  budget: ResultBudget,
): FittedAnswer {
  const measure = (body: Record<string, unknown>): FittedAnswer => {
    const text = JSON.stringify(body);
    return { body, text, bytes: answerBytes(text, budget.form) };
  };
  const fits = (answer: FittedAnswer): boolean => answer.bytes <= budget.maxBytes;
  const whole = measure({ ...data, ...tail });
  if (fits(whole)) return whole;
  const answer = cut ? fitList(data, tail, cut, budget, measure) : clipAll(data, tail, fits, measure);
  if (answer) return answer;
  throw new Error(`result budget of ${budget.maxBytes} bytes cannot hold even the answer's fixed fields`);
}

/** The last resort without a list to cut: every part of the answer clipped until it fits. */
function clipAll(
  data: Record<string, unknown>,
  tail: Record<string, unknown>,
  fits: (answer: FittedAnswer) => boolean,
  measure: (body: Record<string, unknown>) => FittedAnswer,
): FittedAnswer | null {
  const clipped = clipToFit(data, (candidate) => fits(measure({ ...candidate, clipped: true, ...tail })));
  return clipped === null ? null : measure({ ...clipped, clipped: true, ...tail });
}

/**
 * Shortens the cut list until the answer fits. When not even one item fits beside the rest of the
 * answer, the page carries that one item and both are clipped: the list is never shortened by
 * clipping, because its paging fields must describe exactly the items sent.
 */
function fitList(
  data: Record<string, unknown>,
  tail: Record<string, unknown>,
  cut: ListCut,
  budget: ResultBudget,
  measure: (body: Record<string, unknown>) => FittedAnswer,
): FittedAnswer | null {
  const items = data[cut.field] as unknown[];
  if (items.length === 0) return null;
  const fits = (answer: FittedAnswer): boolean => answer.bytes <= budget.maxBytes;
  const build = (kept: unknown[], fields: CutFields, extra: CutFields = {}): FittedAnswer =>
    measure({ ...data, [cut.field]: kept, ...fields, ...extra, ...tail });
  const withPrefix = (n: number): FittedAnswer => build(items.slice(0, n), cut.after(items.slice(0, n), items.length - n));
  const n = longestPrefix(items, withPrefix, budget);
  // All items fitting means the handler's own paging fields were the larger ones: the cut's are as true.
  if (n === items.length) return withPrefix(n);
  // The next item does not fit whole: split it where the tool can (filling the page), else end the
  // page before it; a first item that fits in no form is clipped.
  const next = items[n];
  const prefix = items.slice(0, n);
  const split = cut.split?.(next, items.length - n - 1, {
    bytesOf: (head, fields) => build([...prefix, head], fields).bytes,
    maxBytes: budget.maxBytes,
  });
  if (split) return build([...prefix, split.head], split.fields);
  if (n > 0) return withPrefix(n);
  const fields = cut.after([next], items.length - 1);
  const clippedItem = clipToFit(next, (candidate) => fits(build([candidate], fields, { clipped: true })));
  if (clippedItem !== null) return build([clippedItem], fields, { clipped: true });
  const { [cut.field]: _list, ...others } = data;
  const clipped = clipToFit({ others, item: next }, (c) =>
    fits(measure({ ...data, ...c.others, [cut.field]: [c.item], ...fields, clipped: true, ...tail })),
  );
  return clipped === null
    ? null
    : measure({ ...data, ...clipped.others, [cut.field]: [clipped.item], ...fields, clipped: true, ...tail });
}
