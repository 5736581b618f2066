/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile`): self time per
 * function and per source file, and total (inclusive) time for functions of this repository.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/CPU.….cpuprofile [--top 25] [--match REGEX]
 *                                     [--from SECONDS] [--to SECONDS] [--tasks]
 *
 * --from/--to keep the samples of a time window (seconds since the profile started, which is about
 * when the process started): e.g. --to <cold sync seconds> for the initial load, --from after it
 * for tool calls.
 * --stalls FILE (lines of bench/lib/stall-log.mjs: event-loop stalls on the profile's clock) summarises
 * each stall's window instead: what kept the event loop busy.
 * --match selects the functions with an inclusive-time row ("name file:line"); by default this
 * repository's own (dist/ or src/ — the SDK's dist/ files match too).
 * --stretches REGEX lists instead the longest stretches of consecutive samples whose own frame
 * ("name file:line") matches: how long the event loop stayed in one place at a time, e.g.
 * `--stretches '^sqliteTransaction '` for BEGIN and COMMIT (native calls are charged to their caller).
 * --tasks sorts every sample into the kind of work on its stack (the lag evaluator, the watch's apply,
 * GC, the etcd watch stream, HTTP and tool calls, idle, other) and lists, per kind, its runs of
 * consecutive samples: how often and how long one kind of work kept the event loop at a time
 * (everything queued behind it waited that long).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const shortUrl = (url: string): string =>
  url === "" ? "(native)" : url.replace(/^file:\/\//, "").replace(/^.*?\/node_modules\//, "node_modules/").replace(/^.*?\/(dist|src)\//, "$1/");

/** Seconds from the start of the profile (≈ process start) between which samples count. */
interface Window {
  fromS: number;
  toS: number;
}

/** The profile's nodes by id, and each node's parent (its caller). */
function callTree(profile: Profile): { byId: Map<number, ProfileNode>; parent: Map<number, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return { byId, parent };
}

/** Calls `visit` for each sample within `window`: its node, its duration and when it ended (µs from the start). */
function forEachSample(profile: Profile, window: Window, visit: (id: number, deltaUs: number, atUs: number) => void): void {
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < window.fromS * 1e6 || at > window.toS * 1e6) return;
    visit(id, delta, at);
  });
}

function summarize(profile: Profile, top: number, match: RegExp, window: Window): string {
  const { byId, parent } = callTree(profile);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  forEachSample(profile, window, (id, delta) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });

  const selfByFn = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id) as ProfileNode;
    const f = node.callFrame;
    const fn = `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + us);
    selfByFile.set(shortUrl(f.url), (selfByFile.get(shortUrl(f.url)) ?? 0) + us);
    // Inclusive time of our own functions: charge the sample to every distinct one on its stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = (byId.get(at) as ProfileNode).callFrame;
      const url = shortUrl(frame.url);
      const key = `${frame.functionName || "(anonymous)"} ${url}:${frame.lineNumber + 1}`;
      if (!match.test(key)) continue;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveOwn.set(key, (inclusiveOwn.get(key) ?? 0) + us);
    }
  }
  const table = (title: string, map: Map<string, number>): string[] => [
    `\n${title}`,
    ...[...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${name}`),
  ];
  return [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s, ${profile.samples.length} samples; ` +
      `summarised: ${(totalUs / 1e6).toFixed(2)} s from ${window.fromS} s to ${Number.isFinite(window.toS) ? `${window.toS} s` : "the end"}`,
    ...table("self time by function", selfByFn),
    ...table("self time by file", selfByFile),
    ...table(`inclusive time of functions matching ${match}`, inclusiveOwn),
  ].join("\n");
}

/** The longest runs of consecutive samples whose own frame matches `match`, within `window`. */
function stretches(profile: Profile, match: RegExp, window: Window, top: number): string {
  const { byId } = callTree(profile);
  const runs: { atS: number; us: number }[] = [];
  let current: { atS: number; us: number } | null = null;
  forEachSample(profile, window, (id, delta, at) => {
    const f = (byId.get(id) as ProfileNode).callFrame;
    if (!match.test(`${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`)) {
      current = null;
      return;
    }
    if (current === null) runs.push((current = { atS: at / 1e6, us: 0 }));
    current.us += delta;
  });
  const total = runs.reduce((sum, r) => sum + r.us, 0);
  const longest = [...runs].sort((a, b) => b.us - a.us).slice(0, top);
  return [
    `stretches in frames matching ${match}: ${runs.length}, ${(total / 1000).toFixed(0)} ms in all; the longest:`,
    ...longest.map((r) => `${(r.us / 1000).toFixed(1).padStart(8)} ms at ${r.atS.toFixed(2)} s`),
  ].join("\n");
}

/** Kinds of work, the first match on a sample's stack ("name url" of each frame) wins. */
const TASK_KINDS: [string, RegExp][] = [
  ["idle", /^\(idle\) /],
  ["lag evaluator", /\/store\/lag-evaluator\./],
  ["watch apply", /\/sync\/etcd\/watch-apply\./],
  ["GC", /^\(garbage collector\) /],
  ["etcd watch stream", /grpc|\/sync\/etcd\/watch-(stream|wire)\.|node:internal\/http2/],
  ["HTTP and tools", /modelcontextprotocol|hono|express|router|node:_http|\/(http|tools)\//],
];

/** --tasks: per kind of work, its runs of consecutive samples within `window`. */
function tasks(profile: Profile, window: Window, top: number): string {
  const { byId, parent } = callTree(profile);
  const kindOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = kindOf.get(id);
    if (known !== undefined) return known;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      frames.push(`${f.functionName || "(anonymous)"} ${f.url}`);
    }
    const kind = TASK_KINDS.find(([, re]) => frames.some((frame) => re.test(frame)))?.[0] ?? "other";
    kindOf.set(id, kind);
    return kind;
  };
  const runs = new Map<string, number[]>();
  let current: { kind: string; us: number } | null = null;
  const close = (): void => {
    if (current === null) return;
    const list = runs.get(current.kind);
    if (list === undefined) runs.set(current.kind, [current.us]);
    else list.push(current.us);
    current = null;
  };
  forEachSample(profile, window, (id, delta) => {
    const kind = classify(id);
    if (current?.kind !== kind) {
      close();
      current = { kind, us: 0 };
    }
    current.us += delta;
  });
  close();
  const ms = (us: number): string => (us / 1000).toFixed(1);
  return [
    "kind of work: runs, total; longest runs; 90th percentile of its runs (ms)",
    ...[...runs.entries()]
      .map(([kind, list]) => ({ kind, list: list.sort((a, b) => b - a), total: list.reduce((sum, us) => sum + us, 0) }))
      .sort((a, b) => b.total - a.total)
      .map(
        ({ kind, list, total }) =>
          `${kind.padEnd(18)} ${String(list.length).padStart(5)} runs ${ms(total).padStart(8)} ms; ` +
          `longest ${list.slice(0, Math.min(top, 5)).map(ms).join(", ")}; p90 ${ms(list[Math.floor(list.length * 0.1)] ?? 0)}`,
      ),
  ].join("\n");
}

const { values, positionals } = parseArgs({
  options: {
    top: { type: "string", default: "25" },
    // Which functions get an inclusive-time row; default: this repository's (dist/ or src/).
    match: { type: "string", default: "^\\S+ (dist|src)/" },
    // A time window, in seconds from the start of the profile (e.g. the cold sync, or after it).
    from: { type: "string", default: "0" },
    to: { type: "string", default: "Infinity" },
    stalls: { type: "string" },
    stretches: { type: "string" },
    tasks: { type: "boolean", default: false },
  },
  allowPositionals: true,
});
/** The stalls noted by bench/lib/stall-log.mjs, as windows of `profile` (seconds from its start). */
function stallWindows(profile: Profile, file: string): (Window & { ms: number })[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { startUs: number; endUs: number; ms: number })
    .map((s) => ({ fromS: (s.startUs - profile.startTime) / 1e6, toS: (s.endUs - profile.startTime) / 1e6, ms: s.ms }));
}

for (const file of positionals) {
  console.log(`== ${file}`);
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const windows =
    values.stalls === undefined ? [{ fromS: Number(values.from), toS: Number(values.to), ms: 0 }] : stallWindows(profile, values.stalls);
  for (const window of windows) {
    if (values.stalls !== undefined) console.log(`\n=== stall of ${window.ms} ms at ${window.fromS.toFixed(2)} s`);
    if (values.tasks) console.log(tasks(profile, window, Number(values.top)));
    else if (values.stretches !== undefined) console.log(stretches(profile, new RegExp(values.stretches), window, Number(values.top)));
    else console.log(summarize(profile, Number(values.top), new RegExp(values.match), window));
  }
}
