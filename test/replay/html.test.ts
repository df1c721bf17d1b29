import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportCharts } from "../../src/replay/charts.js";
import { renderReport } from "../../src/replay/html.js";
import { esc } from "../../src/replay/html-tables.js";
import type { ReplayJson } from "../../src/replay/summary.js";
import { EVIL, replayFixture } from "./fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const TMP = new URL("../../.tmp/", import.meta.url).pathname;

let full: ReplayJson;
let html: string;

beforeAll(async () => {
  full = replayFixture();
  html = await renderReport(full);
});

describe("HTML report (static checks)", () => {
  it("loads nothing from anywhere: no script, no link, no src/href, no url(), no import", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/<(iframe|img|object|embed|image|use)\b/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href|srcset|action|poster)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    // Not even a namespace URL is left; the fixture's data has none either.
    expect(html).not.toMatch(/https?:\/\//i);
  });

  it("escapes every data string: service, team, route, file and candidate names", () => {
    expect(html).not.toContain(EVIL);
    expect(html).toContain(esc(EVIL));
    // Undeclared services, the teams breakdown, the routes table and the missed table all carry it.
    expect(html.split(esc(EVIL)).length - 1).toBeGreaterThanOrEqual(4);
    expect(html).toContain("history/extra &amp; &lt;odd&gt;.jsonl");
    // A candidate label with markup, in both the tune table and the tune chart's SVG text.
    expect(html).not.toContain("<b>&amp;</b>");
    expect(html).toContain("high=0.6 &lt;b&gt;&amp;amp;&lt;/b&gt;");
    expect(html).toContain("<strong>high=0.6 &lt;b&gt;&amp;amp;&lt;/b&gt;</strong> (best)");
  });

  it("has every table and every chart", () => {
    for (const id of ["t-volume", "t-headline", "t-routes", "t-score", "t-teams", "t-sources", "t-tiers"])
      expect(html, id).toContain(`<table id="${id}">`);
    for (const id of ["t-missed", "t-tune"]) expect(html, id).toContain(`<table id="${id}">`);
    expect(html).toContain('<ul id="l-undeclared">');
    for (const c of ["daily", "reliability", "pr-curve", "time-to-page", "tune"])
      expect(html, c).toMatch(new RegExp(`<figure id="chart-${c}"[^>]*><svg `));
    // The headline sets the policy beside both baselines.
    expect(html).toMatch(/<th>pagewise<\/th><th>page everything<\/th><th>severity only<\/th>/);
    expect(html).toContain("<td>paging precision</td><td>64.1%</td><td>14.5%</td><td>24.6%</td>");
    expect(html).toContain("<td>time to page p90</td><td>6m 50s</td><td>2m 00s</td><td>3m 20s</td>");
  });

  it("leaves the tune chart and table out without tune", async () => {
    const { tune: _, ...plain } = replayFixture();
    expect(reportCharts(plain).map((c) => c.id)).toEqual([
      "daily",
      "reliability",
      "pr-curve",
      "time-to-page",
    ]);
    const out = await renderReport(plain);
    expect(out).not.toContain('id="chart-tune"');
    expect(out).not.toContain('id="t-tune"');
  });
});

/** Per chart: how many data-carrying marks the browser drew (paths/rects/lines with real geometry). */
type MarkCounts = Record<string, number>;

/** The little of the DOM the checker uses (the project compiles without the DOM lib). */
interface Node_ {
  tagName: string;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<Node_>;
  getBBox(): { width: number; height: number };
}

async function countMarks(page: Page): Promise<MarkCounts> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: Node_ }).document;
    const counts: Record<string, number> = {};
    for (const fig of doc.querySelectorAll("figure[data-chart]")) {
      let n = 0;
      // Vega's data marks are g.role-mark (axes, legends and titles have other roles). Text labels
      // and "decor_" layers (drawn whatever the data, like the diagonal) do not count.
      for (const g of fig.querySelectorAll("svg g.role-mark")) {
        const cls = g.getAttribute("class") ?? "";
        if (cls.includes("mark-text") || cls.includes("decor_")) continue;
        for (const el of g.querySelectorAll(":scope > path, :scope > rect, :scope > line")) {
          const tag = el.tagName.toLowerCase();
          const geometry =
            tag === "path"
              ? (el.getAttribute("d") ?? "").trim() !== ""
              : tag === "rect"
                ? Number(el.getAttribute("width")) > 0
                : true;
          const box = el.getBBox();
          if (geometry && (box.width > 0 || box.height > 0)) n++;
        }
      }
      counts[fig.getAttribute("data-chart") ?? "?"] = n;
    }
    return counts;
  });
}

const emptyCharts = (counts: MarkCounts) =>
  Object.entries(counts)
    .filter(([, n]) => n === 0)
    .map(([id]) => id);

describe("HTML report in Chromium", () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  async function open(name: string, content: string) {
    // Fail, never skip: CI must open the report in a real browser.
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: this test needs Debian's chromium package (.ci/run installs it)`,
      );
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    mkdirSync(TMP, { recursive: true });
    const file = join(TMP, name);
    writeFileSync(file, content);
    const url = pathToFileURL(file).href;
    const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on("request", (req) => requests.push(req.url()));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(url, { waitUntil: "load" });
    return { page, url, requests, errors, close: () => context.close() };
  }

  it("draws marks in every chart, fetches nothing, and saves a screenshot", async () => {
    const { page, url, requests, errors, close } = await open("report.html", html);
    try {
      expect(requests).toEqual([url]);
      expect(errors).toEqual([]);
      const counts = await countMarks(page);
      console.log("marks per chart:", JSON.stringify(counts));
      expect(Object.keys(counts)).toEqual(["daily", "reliability", "pr-curve", "time-to-page", "tune"]);
      expect(emptyCharts(counts)).toEqual([]);
      // Exact floors from the fixture: 3 series lines + 3x28 points; 10 bins line + points; etc.
      expect(counts.daily).toBe(3 + 3 * 28);
      expect(counts.reliability).toBe(1 + 10);
      expect(counts["pr-curve"]).toBe(1 + 19 + 1);
      expect(counts["time-to-page"]).toBe(6);
      expect(counts.tune).toBe(2 * (1 + 8 + 1));
      // The escaped service name is text on the page, not an element.
      expect(await page.locator("script").count()).toBe(0);
      expect(await page.locator("#l-undeclared").textContent()).toContain(EVIL);
      await page.screenshot({ path: join(TMP, "report-screenshot.png"), fullPage: true });
    } finally {
      await close();
    }
  });

  it("the checker catches empty frames: no days, no scored bins (the diagonal alone is not data)", async () => {
    const empty = { ...full, daily: [], score: { ...full.score, reliability: [] } };
    const { page, close } = await open("report-empty.html", await renderReport(empty));
    try {
      const counts = await countMarks(page);
      expect(emptyCharts(counts)).toEqual(["daily", "reliability"]);
      expect(counts["pr-curve"]).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });
});
