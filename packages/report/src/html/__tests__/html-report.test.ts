import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { renderHtmlReport, reportProblems, type Report } from '@modelpass/report';
import { canvasInk, launchChromium, openOffline, saveScreenshot } from '../../../../../tools/chromium/chromium.js';
import { HOSTILE_INPUT, HOSTILE_NODE, HOSTILE_OP_OPTION, HOSTILE_TENSOR, sampleReport } from './sample-report.js';

/** The report's palette (chart-spec.ts): every chart draws its bars in one of these. */
const DATASET_COLORS = ['#7b8fc7', '#e0783e', '#3f9f7f'];
const TWO_MB = 2 * 1024 * 1024;

/** The page without the `/*! … *\/` license banners of the inlined libraries. */
function withoutLicenseBanners(html: string): string {
  return html.replace(/\/\*![\s\S]*?\*\//g, '');
}

describe('renderHtmlReport (static checks)', () => {
  const html = renderHtmlReport(sampleReport());

  it('renders a sample that the report schema accepts', () => {
    expect(reportProblems(JSON.parse(JSON.stringify(sampleReport())))).toEqual([]);
  });

  it('is one file under 2 MB with no external URL outside the inlined licenses', () => {
    expect(Buffer.byteLength(html)).toBeLessThan(TWO_MB);
    const stripped = withoutLicenseBanners(html);
    expect(stripped).not.toMatch(/https?:\/\//i);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(styles).toHaveLength(1);
    expect(styles[0]).not.toMatch(/url\(|@import/i);
    // The banners are kept (MIT asks for them) and they are comments, nothing the page loads.
    expect(html).toContain('Released under the MIT License');
  });

  it('escapes every model-provided string', () => {
    for (const hostile of [HOSTILE_NODE, HOSTILE_TENSOR, HOSTILE_INPUT, HOSTILE_OP_OPTION]) {
      expect(html).not.toContain(hostile);
    }
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    // Exactly the page's own scripts: the JSON data block, Chart.js and the page script.
    expect(html.match(/<script\b/g)).toHaveLength(3);
  });

  it('has a chart spec for every canvas and the canvas for every spec', () => {
    const block = /<script type="application\/json" id="report-charts">([^<]*)<\/script>/.exec(html);
    expect(block).not.toBeNull();
    const specs = JSON.parse(block![1]!) as { id: string; labels: string[] }[];
    const canvases = [...html.matchAll(/<canvas id="([^"]+)"/g)].map((m) => m[1]);
    expect(specs.map((s) => s.id).sort()).toEqual([...canvases].sort());
    expect(specs.map((s) => s.id)).toEqual(
      expect.arrayContaining(['chart-bytes-by-dtype', 'chart-bytes-by-op', 'chart-layer-sparsity', 'chart-layer-channels', 'chart-layer-sqnr', 'chart-accuracy', 'chart-latency', 'chart-pass-timeline', 'chart-diff-counts']),
    );
    // Hostile names survive the JSON block intact (they are drawn as text on a canvas).
    expect(specs.find((s) => s.id === 'chart-layer-sparsity')!.labels[0]).toBe(`${HOSTILE_NODE} (Conv)`);
  });

  it('stays under 2 MB for a model with 20,000 layers and a 20,000-node diff', () => {
    const base = sampleReport();
    const layers = Array.from({ length: 20_000 }, (_, i) => ({ ...base.layers[1]!, node: `layer_${i}_${'x'.repeat(40)}` }));
    const added = Array.from({ length: 20_000 }, (_, i) => ({ ...base.diff!.nodes.added[0]!, name: `added_${i}_${'y'.repeat(40)}` }));
    const passes = Array.from({ length: 5_000 }, (_, i) => ({ ...base.passes[0]!, index: i + 1 }));
    const big: Report = { ...base, layers, passes, diff: { ...base.diff!, nodes: { ...base.diff!.nodes, added } } };
    const page = renderHtmlReport(big);
    console.log(`HTML report: sample ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, 20,000 layers ${(Buffer.byteLength(page) / 1024).toFixed(0)} KiB`);
    expect(Buffer.byteLength(page)).toBeLessThan(TWO_MB);
    expect(page).toContain('19600 more layers not shown (the JSON report lists all 20000).');
  });

  it('refuses what is not a version 1 report, naming the version', () => {
    expect(() => renderHtmlReport({ schemaVersion: 2 } as unknown as Report)).toThrow(ModelpassError);
    expect(() => renderHtmlReport({ schemaVersion: 2 } as unknown as Report)).toThrow(/schema version 1.*schemaVersion 2/s);
  });

  it('leaves out sections the report has nothing for, without empty charts', () => {
    const base = sampleReport();
    const minimal: Report = { ...base, passes: [], layers: [], diff: undefined, check: undefined, accuracy: undefined, latency: undefined, diagnostics: undefined } as Report;
    const page = renderHtmlReport(minimal);
    expect(page).not.toContain('id="section-passes"');
    expect(page).not.toContain('id="section-diff"');
    expect(page).toContain('id="section-size"');
    // A layer table whose sparsity is all zero says so instead of drawing an empty chart.
    const dense: Report = { ...base, layers: base.layers.map((layer) => ({ ...layer, sparsity: 0 })) };
    const densePage = renderHtmlReport(dense);
    expect(densePage).not.toContain('id="chart-layer-sparsity"');
    expect(densePage).toContain('No layer has weights that are exactly zero.');
  });
});

describe('renderHtmlReport in headless Chromium', () => {
  let browser: Browser;
  const folder = mkdtempSync(join(tmpdir(), 'html-report-'));

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart, fills every table, loads nothing and runs no model string', async () => {
    const file = join(folder, 'report.html');
    writeFileSync(file, renderHtmlReport(sampleReport()));
    const { page, log } = await openOffline(browser, file);
    const rendered = await page.evaluate(() => document.documentElement.getAttribute('data-charts-rendered'));
    const canvases = await canvasInk(page, DATASET_COLORS);
    expect(canvases.length).toBe(9);
    expect(rendered).toBe(String(canvases.length));
    for (const canvas of canvases) {
      const barPixels = DATASET_COLORS.reduce((sum, color) => sum + canvas.byColor[color]!, 0);
      // Bars, not only axes: at least 0.5 % of the canvas in a dataset colour.
      expect(barPixels, `chart ${canvas.id} draws no bars`).toBeGreaterThan(canvas.width * canvas.height * 0.005);
    }
    const tables = await page.evaluate(() => [...document.querySelectorAll('table')].map((t) => ({ caption: t.caption?.textContent ?? '', rows: t.tBodies[0]?.rows.length ?? 0 })));
    expect(tables.length).toBeGreaterThanOrEqual(15);
    for (const t of tables) expect(t.rows, `table '${t.caption}' is empty`).toBeGreaterThan(0);
    // Hostile names are text in the page, and none of them ran.
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const cellTexts = await page.evaluate(() => [...document.querySelectorAll('th, td')].map((cell) => cell.textContent));
    expect(cellTexts).toContain(HOSTILE_NODE);
    expect(cellTexts).toContain(HOSTILE_TENSOR);
    expect(await page.evaluate(() => document.querySelectorAll('img').length)).toBe(0);
    // The only links are the section anchors; no element names a resource.
    const references = await page.evaluate(() => [...document.querySelectorAll('[src], [href], [srcset], link, iframe, object, embed')].map((e) => e.getAttribute('href') ?? e.outerHTML));
    expect(references.length).toBeGreaterThan(3);
    for (const reference of references) expect(reference).toMatch(/^#section-/);
    expect(log.blockedRequests).toEqual([]);
    expect(log.errors).toEqual([]);
    await saveScreenshot(page, 'html-report-sample');
    await page.close();
  });
});
