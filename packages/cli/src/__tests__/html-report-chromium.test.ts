// `modelpass convert --pipeline 'simplify,quantize-static{…}' --report out.html` on real models, the
// page opened in headless Chromium (Debian's, via puppeteer-core) with the network blocked: every
// chart draws bars, every table has rows, nothing is requested, nothing errs. The screenshot's
// path is printed (MODELPASS_SCREENSHOT_DIR keeps it after the run).
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canvasInk, launchChromium, openOffline, saveScreenshot } from '../../../../tools/chromium/chromium.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { repoRoot, runCli } from './run-cli.js';

const FASHION = '/usr/share/datasets/fashion-mnist';
const TWO_MB = 2 * 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'modelpass-html-report-'));

interface ChartSpecInPage {
  id: string;
  datasets: { color: string }[];
}

/** Opens a report page offline and checks what every report page must hold: charts with bars, tables with rows. */
async function inspectReport(browser: Browser, html: string) {
  const { page, log } = await openOffline(browser, html);
  const specs = await page.$eval('#report-charts', (node) => JSON.parse(node.textContent ?? '[]') as ChartSpecInPage[]);
  expect(await page.evaluate(() => document.documentElement.getAttribute('data-charts-rendered'))).toBe(String(specs.length));
  const colors = [...new Set(specs.flatMap((spec) => spec.datasets.map((d) => d.color)))];
  const canvases = await canvasInk(page, colors);
  expect(canvases.map((c) => c.id).sort()).toEqual(specs.map((spec) => spec.id).sort());
  for (const canvas of canvases) {
    const spec = specs.find((s) => s.id === canvas.id)!;
    const barPixels = spec.datasets.reduce((sum, d) => sum + canvas.byColor[d.color]!, 0);
    expect(barPixels, `chart ${canvas.id} draws no bars`).toBeGreaterThan(canvas.width * canvas.height * 0.005);
  }
  const tables = await page.evaluate(() => [...document.querySelectorAll('table')].map((t) => ({ caption: t.caption?.textContent ?? '', rows: t.tBodies[0]?.rows.length ?? 0 })));
  for (const t of tables) expect(t.rows, `table '${t.caption}' is empty`).toBeGreaterThan(0);
  return { page, log, specs, tables };
}

describe('convert --report out.html in headless Chromium', () => {
  let browser: Browser;
  let blazeface: string;

  beforeAll(async () => {
    if (!existsSync(FASHION)) throw new Error(`Fashion-MNIST missing at ${FASHION}: run tools/setup.sh (installs Debian's dataset-fashion-mnist)`);
    blazeface = (await ensureThirdPartyModels({ ids: ['blazeface-front-128'] }))[0]!.path;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const cases = [
    { name: 'fashion-cnn', model: () => join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), pipeline: 'simplify,quantize-static{dataset=fashion-mnist:train samples=64}' },
    // Third-party weights (MediaPipe BlazeFace, opset 12): calibrated on seeded random inputs.
    { name: 'blazeface-front-128', model: () => blazeface, pipeline: 'simplify,quantize-static{samples=8}' },
  ];

  for (const testCase of cases) {
    it(`renders every chart of a ${testCase.pipeline.split('{')[0]} run on ${testCase.name}`, async () => {
      const html = join(work, `${testCase.name}.html`);
      const out = join(work, `${testCase.name}.int8.onnx`);
      const result = await runCli(['convert', testCase.model(), '-o', out, '--pipeline', testCase.pipeline, '--report', html]);
      expect(result.code, result.stderr).toBe(0);
      const bytes = statSync(html).size;
      expect(bytes).toBeLessThan(TWO_MB);
      const ratio = statSync(out).size / statSync(testCase.model()).size;
      expect(ratio).toBeLessThan(0.6);

      const { page, log, specs, tables } = await inspectReport(browser, html);
      expect(specs.map((spec) => spec.id)).toEqual(expect.arrayContaining(['chart-bytes-by-dtype', 'chart-bytes-by-op', 'chart-layer-sqnr', 'chart-pass-timeline']));
      expect(tables.length).toBeGreaterThanOrEqual(5);
      // The page names the pipeline that ran and the int8 weights it produced.
      const text = await page.evaluate(() => document.body.innerText);
      expect(text).toContain('quantize-static');
      expect(readFileSync(html, 'utf8')).toContain('"int8"');
      expect(log.blockedRequests).toEqual([]);
      expect(log.errors).toEqual([]);
      console.log(`${testCase.name}: report ${(bytes / 1024).toFixed(0)} KiB, ${specs.length} charts, ${tables.length} tables; model ${ratio.toFixed(2)}× the float file`);
      await saveScreenshot(page, `html-report-${testCase.name}`);
      await page.close();
    });
  }

  it('shows the pass a --check caught and the first diverging node (prune-magnitude on fashion-cnn)', async () => {
    const html = join(work, 'check.html');
    const model = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
    const result = await runCli(['convert', model, '-o', join(work, 'pruned.onnx'), '--pipeline', 'simplify,prune-magnitude{sparsity=0.5}', '--check', '--report', html]);
    expect(result.code, result.stderr).toBe(1);
    const { page, log, specs } = await inspectReport(browser, html);
    expect(specs.map((spec) => spec.id)).toContain('chart-pass-timeline');
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain('FAILED after pass 2 (prune-magnitude)');
    expect(text).toMatch(/first divergent node\s+\/conv\d\/Conv \(Conv\)/);
    // The failing pass's check, output by output, in its own table.
    expect(text).toContain('Check after pass 2. prune-magnitude');
    expect(log.blockedRequests).toEqual([]);
    expect(log.errors).toEqual([]);
    await saveScreenshot(page, 'html-report-check-failure');
    await page.close();
  });

  it('draws the graph diff of a model and its pruned copy (modelpass diff --report out.html)', async () => {
    const model = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
    const pruned = join(work, 'pruned-for-diff.onnx');
    const converted = await runCli(['convert', model, '-o', pruned, '--pipeline', 'prune-magnitude{sparsity=0.5}']);
    expect(converted.code, converted.stderr).toBe(0);
    const html = join(work, 'diff.html');
    const result = await runCli(['diff', model, pruned, '--report', html]);
    expect(result.code, result.stderr).toBe(1); // the models differ
    const { page, log, specs } = await inspectReport(browser, html);
    expect(specs.map((spec) => spec.id)).toContain('chart-diff-counts');
    const captions = await page.$$eval('table caption', (nodes) => nodes.map((n) => n.textContent ?? ''));
    expect(captions).toContain('Initializers changed');
    expect(captions.some((c) => c.startsWith('Intermediate tensors on the same inputs'))).toBe(true);
    const changed = await page.$$eval('#section-diff table', (tables) =>
      tables.filter((t) => t.caption?.textContent === 'Initializers changed').flatMap((t) => [...t.tBodies[0]!.rows].map((row) => row.cells[0]!.textContent)),
    );
    expect(changed).toEqual(expect.arrayContaining(['conv2.weight', 'fc1.weight']));
    expect(log.blockedRequests).toEqual([]);
    expect(log.errors).toEqual([]);
    await saveScreenshot(page, 'html-report-diff');
    await page.close();
  });

  it('draws the accuracy of modelpass eval --report out.html (fashion-cnn on 500 Fashion-MNIST test images)', async () => {
    const html = join(work, 'eval.html');
    const result = await runCli(['eval', join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), '-d', 'fashion-mnist:test', '--limit', '500', '--report', html]);
    expect(result.code, result.stderr).toBe(0);
    const { page, log, specs } = await inspectReport(browser, html);
    expect(specs.map((spec) => spec.id)).toContain('chart-accuracy');
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toMatch(/before\s+\d+\.\d\d %\s+500\s+fashion-mnist:test/);
    expect(log.blockedRequests).toEqual([]);
    expect(log.errors).toEqual([]);
    await page.close();
  });

  it('shows hostile names from a model file as text and runs none of them', async () => {
    const model = readOnnx(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'));
    const conv = model.graph.nodesOf('onnx.Conv').next().value!;
    const nodeName = '<script>window.__pwned = 1</script>';
    const weightName = '"><img src=x onerror="window.__pwned = 2">';
    const inputName = '</script><script>window.__pwned = 3</script>';
    conv.name = nodeName;
    conv.inputs[1]!.rename(weightName);
    model.graph.inputs[0]!.rename(inputName);
    const hostile = join(work, 'hostile.onnx');
    writeOnnx(model, hostile);
    const html = join(work, 'hostile.html');
    const result = await runCli(['convert', hostile, '-o', join(work, 'hostile.out.onnx'), '--pipeline', 'simplify,prune-magnitude{sparsity=0.5}', '--report', html]);
    expect(result.code, result.stderr).toBe(0);
    const { page, log, specs } = await inspectReport(browser, html);
    expect(specs.map((spec) => spec.id)).toContain('chart-layer-sparsity');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll('img, iframe, object, embed').length)).toBe(0);
    expect(await page.evaluate(() => document.scripts.length)).toBe(3);
    const cells = await page.$$eval('th, td', (nodes) => nodes.map((n) => n.textContent));
    expect(cells).toContain(nodeName);
    expect(log.blockedRequests).toEqual([]);
    expect(log.errors).toEqual([]);
    await page.close();
  });
});
