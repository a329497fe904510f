/** Small HTML builders for the report: tables, figures, definition lists. All text goes through escapeHtml. */
import { chartHeight, type ChartSpec } from './chart-spec.js';
import { escapeHtml } from './escape.js';

/** Most rows one table shows; the rest are counted in a note (the JSON report has them all). */
export const MAX_TABLE_ROWS = 400;

/** A table cell: plain text, or text aligned as a number. */
export type Cell = string | { readonly number: string } | { readonly text: string; readonly className: string };

function cellHtml(cell: Cell, tag: 'td' | 'th'): string {
  if (typeof cell === 'string') return `<${tag}>${escapeHtml(cell)}</${tag}>`;
  if ('number' in cell) return `<${tag} class="num">${escapeHtml(cell.number)}</${tag}>`;
  return `<${tag} class="${escapeHtml(cell.className)}">${escapeHtml(cell.text)}</${tag}>`;
}

export function num(text: string): Cell {
  return { number: text };
}

/** An accessible table: caption, column headers with scope, the first cell of each row as its header. */
export function table(caption: string, headers: readonly string[], rows: readonly (readonly Cell[])[], rowName = 'rows'): string {
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  const head = `<thead><tr>${headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>`;
  const body = shown
    .map((row) => `<tr>${row.map((cell, i) => (i === 0 ? cellHtml(cell, 'th').replace('<th', '<th scope="row"') : cellHtml(cell, 'td'))).join('')}</tr>`)
    .join('\n');
  const more = rows.length > shown.length ? `<p class="note">${rows.length - shown.length} more ${escapeHtml(rowName)} not shown (the JSON report lists all ${rows.length}).</p>` : '';
  return `<div class="table-wrap"><table><caption>${escapeHtml(caption)}</caption>${head}<tbody>\n${body}\n</tbody></table></div>${more}`;
}

/** A chart canvas and, beside it, the table with the same numbers. */
export function chartFigure(spec: ChartSpec, tableHtml: string): string {
  const width = spec.kind === 'bar' ? 560 : 620;
  return (
    `<div class="chart-pair"><figure class="chart">` +
    `<canvas id="${escapeHtml(spec.id)}" width="${width}" height="${Math.round(chartHeight(spec))}" role="img" aria-label="${escapeHtml(spec.title)}"></canvas>` +
    `<figcaption>${escapeHtml(spec.title)}</figcaption></figure>${tableHtml}</div>`
  );
}

/** A definition list of label → value pairs (summary cards). */
export function facts(pairs: readonly (readonly [label: string, value: string])[]): string {
  return `<dl class="facts">${pairs.map(([label, value]) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`).join('')}</dl>`;
}

export function paragraph(text: string, className = 'note'): string {
  return `<p class="${className}">${escapeHtml(text)}</p>`;
}
