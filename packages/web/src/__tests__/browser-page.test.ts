// The browser page in headless Chromium, used as a person would: pick an .onnx file, run a
// pipeline, click the download link. The downloaded file must be byte-identical to what the built
// CLI writes for the same pipeline (`modelpass convert m.onnx -o out.onnx --pipeline simplify`,
// spawned from packages/cli/dist, which nx builds first: @modelpass/cli is a dev dependency).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { BROWSER_BUILTINS, FORBIDDEN_PACKAGES, buildWebPage, type WebPageBuild } from '@modelpass/web';
import { launchChromium, openOffline, saveScreenshot, type PageLog } from '../../../../tools/chromium/chromium.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const FASHION_CNN = join(REPO_ROOT, 'fixtures', 'models', 'fashion-cnn', 'model.onnx');
/** Third-party models and the pipeline each runs (simplify, as the CLI's default; optimize, every fusion). */
const THIRD_PARTY = [
  { id: 'silero-vad-v5', pipeline: 'simplify' },
  { id: 'ppocr-mobile-v2-cls', pipeline: 'simplify' },
  { id: 'blazeface-front-128', pipeline: 'optimize' },
];
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'web-page-'));

async function cliConvert(model: string, pipeline: string): Promise<Buffer> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the CLI first (NX_DAEMON=false npx nx run @modelpass/cli:build)`);
  const out = join(work, `cli-${basename(model)}`);
  await run(process.execPath, [CLI, 'convert', model, '-o', out, '--pipeline', pipeline], { cwd: work, maxBuffer: 64 << 20 });
  return readFileSync(out);
}

async function waitForState(page: Page, states: readonly string[]): Promise<string> {
  await page.waitForFunction((wanted: string[]) => wanted.includes(document.body.dataset['state'] ?? ''), { timeout: 120_000 }, [...states]);
  return page.evaluate(() => document.body.dataset['state'] ?? '');
}

async function statusText(page: Page): Promise<string> {
  return page.$eval('#status', (node) => node.textContent ?? '');
}

/** Clicks Run with `pipeline` in the text field (or as the picker left it), clicks the download link, returns the downloaded bytes. */
async function runAndDownload(page: Page, pipeline?: string): Promise<{ bytes: Buffer; status: string; fileName: string }> {
  const downloads = mkdtempSync(join(work, 'downloads-'));
  const session = await page.createCDPSession();
  await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
  if (pipeline !== undefined) await page.$eval('#pipeline', (node, text) => ((node as HTMLInputElement).value = text), pipeline);
  await page.click('#run');
  const state = await waitForState(page, ['done', 'error']);
  const status = await statusText(page);
  expect(state, status).toBe('done');
  const completed = new Promise<void>((resolvePromise, reject) => {
    session.on('Browser.downloadProgress', (event: { state: string }) => {
      if (event.state === 'completed') resolvePromise();
      if (event.state === 'canceled') reject(new Error('the download was canceled'));
    });
  });
  await page.click('#download');
  await completed;
  const files = readdirSync(downloads);
  expect(files).toHaveLength(1);
  await session.detach();
  return { bytes: readFileSync(join(downloads, files[0]!)), status, fileName: files[0]! };
}

/** Loads `model` through the file input, runs `pipeline` and returns the downloaded bytes. */
async function runInPage(page: Page, model: string, pipeline: string): Promise<{ bytes: Buffer; status: string; fileName: string }> {
  const input = await page.$('#model-file');
  await input!.uploadFile(model);
  await waitForState(page, ['loaded', 'error']);
  return runAndDownload(page, pipeline);
}

/** Drops `model` on the drop zone as a dragged file would arrive. */
async function dropFile(page: Page, model: string): Promise<void> {
  await page.evaluate(
    (base64: string, name: string) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name));
      document.getElementById('drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    readFileSync(model).toString('base64'),
    basename(model),
  );
  await waitForState(page, ['loaded', 'error']);
}

describe('the browser page (@modelpass/web)', () => {
  let build: WebPageBuild;
  let pageFile: string;
  let browser: Browser;
  let thirdParty: { id: string; path: string }[];

  beforeAll(async () => {
    build = await buildWebPage();
    pageFile = join(work, 'index.html');
    writeFileSync(pageFile, build.html);
    thirdParty = await ensureThirdPartyModels({ ids: THIRD_PARTY.map((entry) => entry.id) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('bundles the pure-TypeScript core without native code or Node built-ins', () => {
    expect(build.inputs.some((file) => file.includes('packages/transforms/src/'))).toBe(true);
    expect(build.inputs.some((file) => file.includes('packages/runtime/src/reference-engine.ts'))).toBe(true);
    // Not the runtime's main entry: that one loads onnxruntime-node.
    expect(build.inputs.some((file) => file.endsWith('packages/runtime/src/index.ts') || file.endsWith('packages/runtime/src/ort-runner.ts'))).toBe(false);
    for (const forbidden of FORBIDDEN_PACKAGES) expect(build.inputs.filter((file) => file.includes(`node_modules/${forbidden}/`))).toEqual([]);
    // Every built-in the core imports is served by the page's browser modules, none by Node.
    for (const name of Object.keys(build.builtins)) expect(Object.keys(BROWSER_BUILTINS)).toContain(name);
    // One file: no script, stylesheet, image or frame is loaded from anywhere (openOffline also blocks and records any request).
    expect(build.html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
    // The UI script is the page's own code only; the core runs in the engine worker.
    for (const file of build.uiInputs) expect(file).toMatch(/^packages\/web\/src\/page\//);
    console.log(`page: ${(Buffer.byteLength(build.html) / 1024).toFixed(0)} KiB (engine ${(build.engineScriptBytes / 1024).toFixed(0)} KiB from ${build.inputs.length} files, UI ${(build.uiScriptBytes / 1024).toFixed(1)} KiB); browser modules for ${Object.keys(build.builtins).join(', ')}`);
  });

  it('runs simplify on fashion-cnn and downloads the bytes the CLI writes; the reference interpreter agrees', async () => {
    const { page, log } = await openOffline(browser, pageFile);
    await waitForState(page, ['ready']);
    const passNames = await page.$$eval('#pass-picker input[type=checkbox]', (boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    expect(passNames).toEqual(expect.arrayContaining(['simplify', 'canonicalize', 'dce', 'fold-constants']));
    const { bytes, status, fileName } = await runInPage(page, FASHION_CNN, 'simplify');
    expect(fileName).toBe('model.opt.onnx');
    const cli = await cliConvert(FASHION_CNN, 'simplify');
    expect(bytes.length).toBe(cli.length);
    expect(bytes.equals(cli)).toBe(true);
    const nodes = [...readOnnx(FASHION_CNN).graph.allNodes()].length;
    expect(nodes).toBeGreaterThan(5);
    expect(status).toMatch(new RegExp(`^Done in \\d+ ms: nodes ${nodes} → \\d+, weights \\d+\\.\\d+ KiB → `));
    const passRows = await page.$$eval('#pass-results tbody tr', (rows) => rows.length);
    expect(passRows).toBeGreaterThan(0);
    await page.click('#check');
    const state = await waitForState(page, ['checked', 'error']);
    expect(state, await statusText(page)).toBe('checked');
    const checkRows = await page.$$eval('#check-results tbody tr', (rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)));
    expect(checkRows.length).toBeGreaterThan(0);
    for (const row of checkRows) expect(row[3], `output ${row[0]}`).toBe('yes');
    expect(await statusText(page)).toMatch(/outputs match/);
    await saveScreenshot(page, 'web-page-fashion-cnn');
    expectQuiet(log);
    await page.close();
  });

  for (const { id, pipeline } of THIRD_PARTY) {
    it(`runs ${pipeline} on the third-party model ${id} and downloads the bytes the CLI writes`, async () => {
      const model = thirdParty.find((m) => m.id === id)!;
      const { page, log } = await openOffline(browser, pageFile);
      await waitForState(page, ['ready']);
      const { bytes } = await runInPage(page, model.path, pipeline);
      const cli = await cliConvert(model.path, pipeline);
      expect(bytes.length).toBe(cli.length);
      expect(bytes.equals(cli)).toBe(true);
      expectQuiet(log);
      await page.close();
    });
  }

  it('takes a dropped file and passes ticked in the picker (fashion-mlp, canonicalize then dce)', async () => {
    const model = join(REPO_ROOT, 'fixtures', 'models', 'fashion-mlp', 'model.onnx');
    const { page, log } = await openOffline(browser, pageFile);
    await waitForState(page, ['ready']);
    await dropFile(page, model);
    expect(await page.$eval('#model-info', (node) => node.textContent)).toMatch(/^model\.onnx: /);
    await page.$eval('#pipeline', (node) => ((node as HTMLInputElement).value = ''));
    await page.click('#pass-canonicalize');
    await page.click('#pass-dce');
    expect(await page.$eval('#pipeline', (node) => (node as HTMLInputElement).value)).toBe('canonicalize,dce');
    const { bytes } = await runAndDownload(page);
    expect(bytes.equals(await cliConvert(model, 'canonicalize,dce'))).toBe(true);
    expectQuiet(log);
    await page.close();
  });

  it('says what is wrong with a broken file or a misspelt pass, naming it', async () => {
    const { page, log } = await openOffline(browser, pageFile);
    await waitForState(page, ['ready']);
    const broken = join(work, 'broken.onnx');
    writeFileSync(broken, Buffer.from('this is not a protobuf model at all'));
    await (await page.$('#model-file'))!.uploadFile(broken);
    await waitForState(page, ['loaded']);
    await page.click('#run');
    expect(await waitForState(page, ['done', 'error'])).toBe('error');
    expect(await statusText(page)).toContain('broken.onnx');
    await (await page.$('#model-file'))!.uploadFile(FASHION_CNN);
    await waitForState(page, ['loaded']);
    await page.$eval('#pipeline', (node) => ((node as HTMLInputElement).value = 'simplfy'));
    await page.click('#run');
    expect(await waitForState(page, ['done', 'error'])).toBe('error');
    expect(await statusText(page)).toMatch(/unknown pass 'simplfy'.*did you mean 'simplify'/);
    expect(log.blockedRequests).toEqual([]);
    await page.close();
  });
});

function expectQuiet(log: PageLog): void {
  expect(log.blockedRequests).toEqual([]);
  expect(log.errors).toEqual([]);
}
