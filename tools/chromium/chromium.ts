/**
 * Test helpers that drive Debian's headless Chromium with puppeteer-core (its own browser download
 * fails offline, so it is pointed at /usr/bin/chromium). Used by the HTML report's and the browser
 * page's tests:
 *
 *   import { launchChromium, openOffline, chartInk, saveScreenshot } from '../../../../tools/chromium/chromium.js';
 *
 * A missing Chromium is a failure that names the setup command, never a skip.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type HTTPRequest, type Page } from 'puppeteer-core';

/** The browser binary: `MODELPASS_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env['MODELPASS_CHROMIUM'] ?? '/usr/bin/chromium';

export function requireChromium(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run tools/setup.sh (installs Debian's chromium), or set MODELPASS_CHROMIUM`);
  }
  return CHROMIUM_PATH;
}

export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: requireChromium(),
    headless: true,
    // Root in CI and containers: Chromium's sandbox needs user namespaces it does not get there.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--hide-scrollbars', '--font-render-hinting=none'],
    defaultViewport: { width: 1280, height: 900 },
  });
}

/** What a page did besides rendering: requests it tried beyond its own file, errors it logged. */
export interface PageLog {
  /** URLs of requests other than the page's own file (and data:/blob: URLs); each one was blocked. */
  readonly blockedRequests: string[];
  /** Console errors, uncaught exceptions and CSP violations. */
  readonly errors: string[];
}

/**
 * Opens a local file with every network request blocked and recorded, and console errors, page
 * errors and CSP violations collected.
 */
export async function openOffline(browser: Browser, file: string): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage();
  const url = pathToFileURL(resolve(file)).href;
  const log: PageLog = { blockedRequests: [], errors: [] };
  await page.setRequestInterception(true);
  page.on('request', (request: HTTPRequest) => {
    const target = request.url();
    if (target === url || target.startsWith('data:') || target.startsWith('blob:')) {
      void request.continue();
      return;
    }
    log.blockedRequests.push(target);
    void request.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') log.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => log.errors.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || '(inline)'}`);
    });
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, log };
}

/** Pixels of a canvas, counted: all that are not transparent, and those of each given colour. */
export interface CanvasInk {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly inked: number;
  /** `#rrggbb` → pixels of exactly that opaque colour. */
  readonly byColor: Readonly<Record<string, number>>;
}

/** Reads back every canvas in the page and counts its pixels (by the given dataset colours). */
export async function canvasInk(page: Page, colors: readonly string[]): Promise<CanvasInk[]> {
  return page.evaluate((wanted: string[]) => {
    const rgb = wanted.map((hex) => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)] as const);
    return [...document.querySelectorAll('canvas')].map((canvas) => {
      const context = canvas.getContext('2d')!;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      const byColor: Record<string, number> = Object.fromEntries(wanted.map((hex) => [hex, 0]));
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        inked += 1;
        if (data[i + 3] !== 255) continue;
        rgb.forEach(([r, g, b], k) => {
          if (data[i] === r && data[i + 1] === g && data[i + 2] === b) byColor[wanted[k]!]! += 1;
        });
      }
      return { id: canvas.id, width: canvas.width, height: canvas.height, inked, byColor };
    });
  }, [...colors]);
}

/**
 * Saves a full-page screenshot where the test run keeps it and prints its path (the test output's
 * attachment). `MODELPASS_SCREENSHOT_DIR` keeps screenshots after the run; by default they go to
 * the run's temp folder, which vitest removes at the end.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const folder = process.env['MODELPASS_SCREENSHOT_DIR'] ? resolve(process.env['MODELPASS_SCREENSHOT_DIR']) : join(tmpdir(), 'screenshots');
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.png`) as `${string}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}
