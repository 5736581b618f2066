import { describe, expect, it } from "vitest";
import { groupHistograms, parseValue } from "../../src/kafscale/samples.js";
import { parsePrometheusText, type Sample } from "../../src/sync/metrics/prom-text.js";
import { BROKER_METRICS_SAMPLE } from "../../src/demo/broker-metrics-sample.js";

const fixture = BROKER_METRICS_SAMPLE;

/** Parses one line that must yield exactly one sample and no errors. */
function one(line: string): Sample {
  const r = parsePrometheusText(line);
  expect(r.errors).toEqual([]);
  expect(r.samples).toHaveLength(1);
  return r.samples[0] as Sample;
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  return samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

describe("parsePrometheusText: the broker fixture", () => {
  const r = parsePrometheusText(fixture);

  it("parses cleanly", () => {
    expect(r.errors).toEqual([]);
    expect(r.documentError).toBeNull();
    expect(r.samples).toHaveLength(51);
  });

  it.each<[string, Record<string, string>, number]>([
    ["kafscale_s3_health_state", { state: "healthy" }, 1],
    ["kafscale_s3_health_state", { state: "degraded" }, 0],
    ["kafscale_s3_health_state", { state: "unavailable" }, 0],
    ["kafscale_s3_latency_ms_avg", {}, 38.412],
    ["kafscale_s3_error_rate", {}, 0],
    ["kafscale_s3_state_duration_seconds", {}, 3605.2219],
    ["kafscale_produce_rps", {}, 1250.5],
    ["kafscale_fetch_rps", {}, 980.25],
    ["kafscale_produce_latency_ms_bucket", { le: "5" }, 2],
    ["kafscale_produce_latency_ms_bucket", { le: "+Inf" }, 9],
    ["kafscale_produce_latency_ms_sum", {}, 984],
    ["kafscale_produce_latency_ms_count", {}, 9],
    ["kafscale_consumer_lag_bucket", { le: "1e+06" }, 4],
    ["kafscale_consumer_lag_sum", {}, 1242],
    ["kafscale_consumer_lag_count", {}, 4],
    ["kafscale_consumer_lag_max", {}, 1200],
    ["kafscale_broker_uptime_seconds", {}, 3610.5],
    ["kafscale_broker_mem_alloc_bytes", {}, 48213504],
    ["kafscale_broker_mem_sys_bytes", {}, 96468992],
    ["kafscale_broker_heap_inuse_bytes", {}, 52379648],
    ["kafscale_broker_cpu_percent", {}, 12.75],
    ["kafscale_broker_goroutines", {}, 57],
    ["kafscale_admin_requests_total", { api: "DescribeGroups" }, 12],
    ["kafscale_admin_requests_total", { api: "api_37" }, 1],
    ["kafscale_admin_request_errors_total", { api: "api_37" }, 0],
    ["kafscale_admin_request_latency_ms_avg", { api: "api_37" }, 14],
    ["kafscale_authz_denied_total", {}, 2],
    ["kafscale_authz_denied_total", { action: "produce", resource: "topic" }, 2],
  ])("%s %o = %d", (name, labels, value) => {
    expect(find(r.samples, name, labels)?.value).toBe(value);
  });

  it.each<[string, string]>([
    ["kafscale_s3_health_state", "gauge"],
    ["kafscale_produce_latency_ms", "histogram"],
    ["kafscale_consumer_lag", "histogram"],
    ["kafscale_admin_requests_total", "counter"],
    ["kafscale_authz_denied_total", "counter"],
  ])("family %s has TYPE %s and a HELP", (name, type) => {
    expect(r.families.get(name)?.type).toBe(type);
    expect(r.families.get(name)?.help).toMatch(/\S/);
  });

  it("groups the histograms, keeping le as a number and +Inf last", () => {
    const [lag] = groupHistograms(r.samples, "kafscale_consumer_lag");
    expect(lag?.buckets).toHaveLength(11);
    expect(lag?.buckets.at(-2)).toEqual({ le: 1e6, count: 4 });
    expect(lag?.buckets.at(-1)).toEqual({ le: Infinity, count: 4 });
    expect(lag).toMatchObject({ sum: 1242, count: 4, labels: {} });
  });

  it("gives the same samples whatever the line order or line endings", () => {
    const lines = fixture.split("\n");
    const reversed = parsePrometheusText([...lines].reverse().join("\r\n"));
    expect(reversed.errors).toEqual([]);
    const sortKey = (s: Sample): string => JSON.stringify([s.name, s.labels]);
    const sorted = (xs: Sample[]): Sample[] => [...xs].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    expect(sorted(reversed.samples)).toEqual(sorted(r.samples));
  });
});

describe("parsePrometheusText: sample lines", () => {
  it.each<[string, string, Record<string, string>, number]>([
    ["plain", "m 1", {}, 1],
    ["float", "m 38.412000", {}, 38.412],
    ["exponent with sign", "m 1e+06", {}, 1e6],
    ["upper-case exponent", "m 1.5E-3", {}, 0.0015],
    ["leading dot", "m .5", {}, 0.5],
    ["trailing dot", "m 5.", {}, 5],
    ["negative", "m -2.5", {}, -2.5],
    ["+Inf", "m +Inf", {}, Infinity],
    ["-Inf", "m -Inf", {}, -Infinity],
    ["colon in name", "ns:m_total 3", {}, 3],
    ["labels", 'm{a="x",b="y"} 2', { a: "x", b: "y" }, 2],
    ["empty label set", "m{} 2", {}, 2],
    ["trailing comma", 'm{a="x",} 2', { a: "x" }, 2],
    ["blanks around tokens", ' \t m { a = "x" , b="y" }   7  ', { a: "x", b: "y" }, 7],
    ["no blank after brace", 'm{a="x"}7', { a: "x" }, 7],
    ["escaped quote", 'm{a="say \\"hi\\""} 1', { a: 'say "hi"' }, 1],
    ["escaped backslash", 'm{a="C:\\\\dir"} 1', { a: "C:\\dir" }, 1],
    ["escaped newline", 'm{a="one\\ntwo"} 1', { a: "one\ntwo" }, 1],
    ["braces and commas in value", 'm{a="{x,y}=z"} 1', { a: "{x,y}=z" }, 1],
    ["empty label value", 'm{a=""} 1', { a: "" }, 1],
    ["le label kept", 'h_bucket{le="0.5"} 3', { le: "0.5" }, 3],
    ["summary quantile", 's{quantile="0.99"} 12', { quantile: "0.99" }, 12],
  ])("%s: %s", (_case, line, labels, value) => {
    const s = one(line);
    expect(s.labels).toEqual(labels);
    expect(s.value).toBe(value);
    expect(s.timestampMs).toBeUndefined();
  });

  it("reads NaN", () => {
    expect(one("m NaN").value).toBeNaN();
  });

  it("keeps a label named __proto__ as an ordinary key", () => {
    expect(Object.entries(one('m{__proto__="x"} 1').labels)).toEqual([["__proto__", "x"]]);
  });

  it.each<[string, number]>([
    ["m 1 1700000000000", 1700000000000],
    ["m{a=\"b\"} 1 -5", -5],
    ["m 1 0  ", 0],
  ])("timestamp: %s", (line, ts) => {
    expect(one(line).timestampMs).toBe(ts);
  });

  it.each<[string, string, RegExp]>([
    ["hexadecimal value", "m 0x10", /invalid value/],
    ["underscore in value", "m 1_000", /invalid value/],
    ["empty exponent", "m 1e", /invalid value/],
    ["lone sign", "m +", /invalid value/],
    ["missing value", "m", /missing value/],
    ["missing value after labels", 'm{a="b"}', /missing value/],
    ["name starting with a digit", "1m 1", /invalid metric name/],
    ["dash in name", "m-x 1", /expected blank or '\{'/],
    ["colon in label name", 'm{a:b="c"} 1', /expected '='/],
    ["label name starting with a digit", 'm{1a="c"} 1', /invalid label name/],
    ["duplicate label name", 'm{a="x",a="y"} 1', /duplicate label "a"/],
    ["unquoted label value", "m{a=x} 1", /expected '"'/],
    ["unterminated quote", 'm{a="x} 1', /unterminated label value/],
    ["backslash at end of line", 'm{a="x\\', /unterminated label value/],
    ["unknown escape", 'm{a="\\t"} 1', /invalid escape/],
    ["unterminated label set", 'm{a="x"', /expected ',' or '\}'/],
    ["missing comma", 'm{a="x" b="y"} 1', /expected ',' or '\}'/],
    ["float timestamp", "m 1 1.5", /invalid timestamp/],
    ["huge timestamp", "m 1 99999999999999999999", /timestamp out of range/],
    ["text after timestamp", "m 1 2 3", /unexpected text after timestamp/],
    ["text after value", "m 1 ms", /invalid timestamp/],
    ["TYPE with unknown type", "# TYPE m gaugez", /unknown metric type/],
    ["TYPE with trailing text", "# TYPE m gauge extra", /unexpected text after TYPE/],
    ["HELP with invalid name", "# HELP 9m text", /invalid metric name in HELP/],
  ])("rejects %s", (_case, line, message) => {
    const r = parsePrometheusText(`ok 1\n${line}\n`);
    expect(r.samples.map((s) => s.name)).toEqual(["ok"]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^line 2: /);
    expect(r.errors[0]).toMatch(message);
  });

  it("rejects a second sample of the same series, whatever its label order, keeping the first", () => {
    const r = parsePrometheusText('m{a="1",b="2"} 1\nm{b="2",a="1"} 2\n');
    expect(r.samples).toHaveLength(1);
    expect(r.samples[0]?.value).toBe(1);
    expect(r.errors[0]).toMatch(/line 2: duplicate series/);
  });
});

describe("parsePrometheusText: comments", () => {
  it("reads HELP with escapes and TYPE, ignores other comments", () => {
    const r = parsePrometheusText(
      [
        "# HELP m Line one\\nline two with a \\\\ backslash and \\t kept",
        "# TYPE m counter",
        "#HELP n tight",
        "# just a comment with \"quotes\" and {braces}",
        "# HELP",
        "#",
        "m 1",
      ].join("\n"),
    );
    expect(r.errors).toEqual([]);
    expect(r.families.get("m")).toEqual({
      type: "counter",
      help: "Line one\nline two with a \\ backslash and \\t kept",
    });
    expect(r.families.get("n")).toEqual({ help: "tight" });
    expect(r.samples).toHaveLength(1);
  });

  it("reports a second TYPE and keeps the first", () => {
    const r = parsePrometheusText("# TYPE m gauge\n# TYPE m counter\nm 1\n");
    expect(r.families.get("m")?.type).toBe("gauge");
    expect(r.errors).toEqual([expect.stringMatching(/line 2: second TYPE for m/)]);
  });
});

describe("parsePrometheusText: whole documents", () => {
  it("keeps the good samples of a body cut in the middle of a line", () => {
    const cut = fixture.indexOf('kafscale_admin_requests_total{api="api_37"}') + 38;
    const r = parsePrometheusText(fixture.slice(0, cut));
    expect(r.documentError).toBeNull();
    expect(r.errors).toEqual([expect.stringMatching(/unterminated label value/)]);
    expect(find(r.samples, "kafscale_broker_goroutines")?.value).toBe(57);
    expect(find(r.samples, "kafscale_admin_requests_total", { api: "api_37" })).toBeUndefined();
  });

  it("keeps good samples among a few garbage lines", () => {
    const r = parsePrometheusText("a 1\n<garbage>\nb 2\nc 3 4 5\nd 4\n");
    expect(r.samples.map((s) => s.name)).toEqual(["a", "b", "d"]);
    expect(r.errors).toHaveLength(2);
    expect(r.documentError).toBeNull();
  });

  it.each<[string, string, RegExp]>([
    ["empty body", "", /empty document/],
    ["blank body", " \r\n\n\t\n", /empty document/],
    [
      "HTML error page",
      "<!DOCTYPE html>\r\n<html><head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body></html>\r\n",
      /no valid samples; 3 malformed lines/,
    ],
    ["JSON body", '{"status":"error","errorType":"bad_data"}', /no valid samples/],
    [
      "HTML page with one sample-like line",
      "<html>\n<body>\n<p>Not found</p>\nuptime 5\n</body>\n</html>\n",
      /mostly malformed/,
    ],
  ])("reports %s as a document error", (_case, body, message) => {
    const r = parsePrometheusText(body);
    expect(r.documentError).toMatch(message);
  });

  it("accepts a document of comments only (families with no series yet)", () => {
    const r = parsePrometheusText("# HELP m x\n# TYPE m counter\n");
    expect(r.documentError).toBeNull();
    expect(r.samples).toEqual([]);
  });

  it("caps the number of recorded errors", () => {
    const r = parsePrometheusText("junk line\n".repeat(500), { maxErrors: 10 });
    expect(r.errors).toHaveLength(11);
    expect(r.errors.at(-1)).toBe("490 more malformed lines not shown");
  });

  it("stops at maxSamples and says so", () => {
    const body = Array.from({ length: 20 }, (_, i) => `m{i="${i}"} ${i}`).join("\n");
    const r = parsePrometheusText(body, { maxSamples: 5 });
    expect(r.samples).toHaveLength(5);
    expect(r.errors).toEqual(["sample limit of 5 reached; rest of the document ignored"]);
    expect(parsePrometheusText(body, { maxSamples: 20 }).errors).toEqual([]);
  });

  it.each<[string, string]>([
    ["a very long unterminated label value", `m{a="${"x".repeat(2_000_000)}`],
    ["a very long run of digits", `m 1${"1".repeat(2_000_000)}x`],
    ["a very long name", `${"a".repeat(2_000_000)}{`],
    ["many escapes", `m{a="${"\\\\".repeat(500_000)}`],
  ])("rejects %s with a short error (its speed: npm run bench:speed)", (_case, line) => {
    const r = parsePrometheusText(`${line}\n`.repeat(5));
    expect(r.errors).toHaveLength(5);
    expect(r.errors[0]?.length).toBeLessThan(200);
  });
});

describe("parseValue", () => {
  it.each<[string, number | null]>([
    ["0", 0],
    ["-0.5", -0.5],
    ["1e+06", 1e6],
    ["1.5E-3", 0.0015],
    ["Inf", Infinity],
    ["+inf", Infinity],
    ["-Infinity", -Infinity],
    ["0x1A", null],
    ["1e", null],
    [".", null],
    ["", null],
    ["1.2.3", null],
    [" 1", null],
    ["Infinit", null],
    ["+NaN", null],
  ])("%j -> %s", (token, expected) => {
    expect(parseValue(token)).toBe(expected);
  });
});
