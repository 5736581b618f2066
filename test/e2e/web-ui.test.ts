/**
 * The web view (/ui) in a real browser: Debian's chromium driven by playwright-core against the real
 * `demo` CLI with a static token. The page loads with no console errors (a CSP violation or a
 * script error would be one), asks for the token, shows the demo's groups with their statuses,
 * opens a group and draws its lag chart (the series' own colour on the canvas, not just axes).
 * The "Recent changes" page shows a real change: a topic created in a real etcd, seen by the
 * service's watch, derived into the change feed and read through /api/v1/changes.
 * Screenshots are kept in a temp dir; with KAFSCALE_MCP_UPDATE_SCREENSHOTS=1 they also replace
 * docs/ui.png and docs/ui-group.png (the README's).
 */
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { GROUP_STATUSES } from "../../src/kafscale/lag-status.js";
import { REPO_ROOT, startDemo, type RunningDemo } from "../support/cli.js";
import { changeScript, scriptCluster } from "../support/change-script.js";
import { testEtcd, writeCluster } from "../support/fixtures.js";
import { startTestService } from "../support/service.js";
import { UNTIL } from "../support/conditions.js";

const TOKEN = "web-ui-test-token-0123456789";
const DEMO_GROUPS = ["analytics-etl", "billing-service", "fraud-detector", "inventory-sync", "nightly-report"];
/** The chart's series colour (#0969da in app.js). */
const SERIES_RGB = [9, 105, 218];

let demo: RunningDemo;
let context: BrowserContext;
const shots = mkdtempSync(join(tmpdir(), "kafscale-mcp-ui-shots-"));

beforeAll(async () => {
  demo = await startDemo([], { KAFSCALE_MCP_AUTH_TOKEN: TOKEN, KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: "200ms" });
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "kafscale-mcp-chromium-")), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 90_000);

afterAll(async () => {
  await context?.close();
  await demo?.stop();
});

/** Console errors and uncaught page errors, from the moment this is called. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

/** Pixels of the series colour on the first canvas under `selector`. */
async function seriesPixels(page: Page, selector: string): Promise<number> {
  return await page.$eval(
    `${selector} canvas`,
    (canvas, rgb) => {
      // The DOM's types are not in this project's lib (Node only): the browser's canvas, as used here.
      const c = canvas as unknown as {
        width: number;
        height: number;
        getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
      };
      const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 0];
        if (a > 200 && Math.abs(r - rgb[0]!) < 30 && Math.abs(g - rgb[1]!) < 30 && Math.abs(b - rgb[2]!) < 30) n++;
      }
      return n;
    },
    SERIES_RGB,
  );
}

describe("the web view in Chromium", () => {
  it("asks for the token, then shows the demo's groups and a group's lag chart", { timeout: 120_000 }, async () => {
    const page = await context.newPage();
    const response = await page.goto(`${demo.url}/ui`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${demo.url}/ui/`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    // Without a token the data calls are refused, and the page says what to do.
    await expect.poll(() => page.textContent("#banner"), { timeout: 30_000 }).toContain("Not authorised (401)");

    await page.fill("#token", TOKEN);
    await page.click("#token-form button[type=submit]");
    expect(await page.evaluate('sessionStorage.getItem("kafscale-mcp-token")')).toBe(TOKEN);

    // From here on: a full load with the token, and not one console error.
    const errors = watchErrors(page);
    await page.reload();
    await page.waitForSelector("#groups tr[data-group]", { timeout: 30_000 });
    await expect.poll(() => page.textContent("#banner"), UNTIL).toMatch(/^Fresh demo data: revision \d+/);
    const rows = await page.$$eval("#groups tr[data-group]", (trs) =>
      trs.map((tr) => ({ group: tr.getAttribute("data-group"), status: tr.querySelector(".status")?.textContent })),
    );
    expect(rows.map((r) => r.group).sort()).toEqual(DEMO_GROUPS);
    for (const row of rows) expect(GROUP_STATUSES).toContain(row.status);
    // Ranked by lag: the first row has the most.
    const lags = await page.$$eval("#groups tr[data-group] td:nth-child(3)", (tds) => tds.map((td) => Number(td.textContent?.replace(/,/g, ""))));
    expect(lags).toEqual([...lags].sort((a, b) => b - a));
    // The sparklines draw once a group has history (the demo moves every second).
    await expect.poll(() => page.$$eval("#groups .spark canvas", (c) => c.length), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, "ui.png"), fullPage: true });

    await page.click('#groups tr[data-group="analytics-etl"] a');
    await page.waitForSelector("#group-name");
    expect(await page.textContent("#group-name")).toBe("analytics-etl");
    await page.waitForSelector("#group-chart canvas", { timeout: 30_000 });
    await expect.poll(() => seriesPixels(page, "#group-chart"), { timeout: 30_000 }).toBeGreaterThan(100);
    const partitions = await page.$$eval("section tbody tr", (trs) => trs.length);
    expect(partitions).toBeGreaterThanOrEqual(12);
    await page.screenshot({ path: join(shots, "ui-group.png"), fullPage: true });

    await page.click('nav a[href="#/topics"]');
    await expect.poll(() => page.textContent("main"), UNTIL).toContain("clickstream");

    expect(errors).toEqual([]);
    if (process.env.KAFSCALE_MCP_UPDATE_SCREENSHOTS === "1") {
      copyFileSync(join(shots, "ui.png"), join(REPO_ROOT, "docs/ui.png"));
      copyFileSync(join(shots, "ui-group.png"), join(REPO_ROOT, "docs/ui-group.png"));
    }
    await page.close();
  });

  it("serves the lag series to Prometheus without a token by default, with one under KAFSCALE_MCP_LAG_METRICS_AUTH=bearer", { timeout: 60_000 }, async () => {
    const open = await fetch(`${demo.url}/metrics/lag`);
    expect(open.status).toBe(200);
    expect(open.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(await open.text()).toMatch(/^kafka_consumergroup_group_sum_lag\{cluster_name="kafscale-demo",group="analytics-etl"\} \d+$/m);
    const guarded = await startDemo([], { KAFSCALE_MCP_AUTH_TOKEN: TOKEN, KAFSCALE_MCP_LAG_METRICS_AUTH: "bearer" });
    try {
      expect((await fetch(`${guarded.url}/metrics/lag`)).status).toBe(401);
      const authed = await fetch(`${guarded.url}/metrics/lag`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(authed.status).toBe(200);
      // The group series appear once the just-started demo's first lag evaluation is done.
      await expect
        .poll(async () => (await fetch(`${guarded.url}/metrics/lag`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text(), { timeout: 60_000 })
        .toContain("kafscale_consumergroup_group_status{");
    } finally {
      expect(await guarded.stop()).toBe(0);
    }
  });

  it("shows a topic created in etcd on the Recent changes page", { timeout: 120_000 }, async () => {
    const etcd = testEtcd();
    await writeCluster(etcd.keyspace, scriptCluster);
    const service = await startTestService(etcd.endpoint, etcd.namespace, { KAFSCALE_MCP_AUTH_TOKEN: TOKEN });
    const page = await context.newPage();
    try {
      await service.sync?.ready();
      const [createTopic] = changeScript;
      const revision = await (createTopic as (typeof changeScript)[number]).run(etcd.keyspace);
      await service.sync?.waitForRevision(revision);

      await page.goto(`${service.url}/ui/`);
      await page.fill("#token", TOKEN);
      await page.click("#token-form button[type=submit]");
      // From here on (the token set), not one console error.
      const errors = watchErrors(page);
      page.on("response", (r) => {
        if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
      });
      await page.reload();
      await page.click('nav a[href="#/changes"]');
      const row = page.locator("main tr", { hasText: "topic_created" });
      await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
      expect(await row.textContent()).toContain("payments");
      const shownRevision = Number((await row.locator("td").nth(1).textContent())?.replace(/,/g, ""));
      expect(shownRevision).toBeGreaterThan(0);
      expect(shownRevision).toBeLessThanOrEqual(revision);
      await page.screenshot({ path: join(shots, "ui-changes.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await service.close();
      etcd.client.close();
    }
  });
});
