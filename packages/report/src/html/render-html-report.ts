/**
 * `renderHtmlReport(report)`: one self-contained HTML page for a modelpass report. Chart.js and the
 * page's script are inlined; a Content-Security-Policy allows only those two scripts (by hash) and
 * no network at all, so the file opens offline and nothing a model names can run or load.
 */
import { createHash } from 'node:crypto';
import { ModelpassError } from '@modelpass/ir';
import type { Report } from '../schema.js';
import { chartLibrary } from './chart-library.js';
import type { ChartSpec } from './chart-spec.js';
import { escapeHtml, htmlId, jsonForScriptBlock } from './escape.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';
import { REPORT_SECTIONS } from './sections/index.js';

export interface HtmlReportOptions {
  /** Page title (default: `modelpass <command> report — <first model input>`). */
  readonly title?: string;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function defaultTitle(report: Report): string {
  const model = report.inputs.find((input) => input.role === 'model' || input.role === 'reference') ?? report.inputs[0];
  return `modelpass ${report.command} report${model ? ` — ${model.path}` : ''}`;
}

function assertRenderable(report: Report): void {
  if (report === null || typeof report !== 'object' || report.schemaVersion !== 1) {
    const version = report !== null && typeof report === 'object' ? JSON.stringify((report as { schemaVersion?: unknown }).schemaVersion) : String(report);
    throw new ModelpassError({
      reason: 'renderHtmlReport needs a modelpass report of schema version 1',
      actual: `schemaVersion ${version}`,
      expected: 'schemaVersion 1 (validate it with validateReport first)',
      source: '@modelpass/report',
    });
  }
}

export function renderHtmlReport(report: Report, options: HtmlReportOptions = {}): string {
  assertRenderable(report);
  const library = chartLibrary();
  const charts: ChartSpec[] = [];
  const sections: string[] = [];
  const links: string[] = [];
  for (const section of REPORT_SECTIONS) {
    const rendered = section.render(report);
    if (!rendered) continue;
    const id = `section-${htmlId(section.key)}`;
    charts.push(...rendered.charts);
    links.push(`<a href="#${id}">${escapeHtml(section.title)}</a>`);
    sections.push(`<section id="${id}" aria-labelledby="${id}-title"><h2 id="${id}-title">${escapeHtml(section.title)}</h2>\n${rendered.html}\n</section>`);
  }
  const title = options.title ?? defaultTitle(report);
  const policy = [
    "default-src 'none'",
    `script-src ${sha256(library.source)} ${sha256(PAGE_SCRIPT)}`,
    `style-src ${sha256(PAGE_STYLE)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(policy)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeHtml(`${report.tool.name} ${report.tool.version}`)}">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(`report schema ${report.schemaVersion}, written ${report.createdAt} by ${report.tool.name} ${report.tool.version}`)}</p></header>
<nav aria-label="sections">${links.join('')}</nav>
<main>
${sections.join('\n')}
</main>
<footer>Charts drawn with ${escapeHtml(`${library.name} ${library.version}`)} (MIT), inlined in this file; the page loads nothing from the network. Every chart has a table with the same numbers beside it.</footer>
<script type="application/json" id="report-charts">${jsonForScriptBlock(charts)}</script>
<script>${library.source}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
