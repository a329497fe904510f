import type { ConvertSummary } from './convert-summary.js';
import { escapeForTerminal } from './terminal-text.js';
import type { Stylist } from './terminal-style.js';

/**
 * The before/after table `convert` prints on a terminal (onnxsim's summary, with bytes by dtype and
 * per-pass time and statistics). Every piece of text that can come from a model or a plugin (op
 * names, pass names, statistic names, paths) goes through `escapeForTerminal` before styling.
 */
export function formatConvertSummary(summary: ConvertSummary, style: Stylist): string {
  const rows: Row[] = [
    { label: 'nodes', before: summary.before.nodes, after: summary.after.nodes, format: formatInteger },
    { label: 'parameters', before: summary.before.parameters, after: summary.after.parameters, format: formatInteger },
    { label: 'bytes', before: summary.before.bytes, after: summary.after.bytes, format: formatBytes },
  ];
  const dtypes = [...new Set([...Object.keys(summary.before.bytesByDtype), ...Object.keys(summary.after.bytesByDtype)])].sort();
  for (const dtype of dtypes) {
    rows.push({ label: `  ${dtype}`, before: summary.before.bytesByDtype[dtype] ?? 0, after: summary.after.bytesByDtype[dtype] ?? 0, format: formatBytes });
  }
  const lines: string[] = [];
  const cells = rows.map((row) => [escapeForTerminal(row.label), row.format(row.before), row.format(row.after), formatChange(row)] as const);
  const widths = [0, 1, 2, 3].map((i) => Math.max(['', 'before', 'after', 'change'][i]!.length, ...cells.map((c) => c[i]!.length)));
  const header = ['', 'before', 'after', 'change'].map((text, i) => (i === 0 ? text.padEnd(widths[0]!) : text.padStart(widths[i]!)));
  lines.push(style('bold', header.join('   ')));
  rows.forEach((row, index) => {
    const [label, before, after, change] = cells[index]!;
    const tone = row.after < row.before ? 'green' : row.after > row.before ? 'red' : 'dim';
    lines.push([label.padEnd(widths[0]!), before.padStart(widths[1]!), after.padStart(widths[2]!), style(tone, change.padStart(widths[3]!))].join('   '));
  });
  if (summary.opsChanged.length > 0) {
    lines.push('', style('bold', 'ops changed'));
    const width = Math.max(...summary.opsChanged.map((c) => escapeForTerminal(c.op).length));
    for (const change of summary.opsChanged) {
      const tone = change.after < change.before ? 'green' : 'red';
      lines.push(`  ${escapeForTerminal(change.op).padEnd(width)}  ${String(change.before).padStart(5)} → ${style(tone, String(change.after))}`);
    }
  }
  if (summary.passes.length > 0) {
    lines.push('', style('bold', `passes (${formatMs(summary.pipelineMs)} in all)`));
    const width = Math.max(...summary.passes.map((p) => escapeForTerminal(p.name).length));
    const runsWidth = Math.max(...summary.passes.map((p) => (p.runs > 1 ? ` ×${p.runs}` : '').length));
    for (const pass of summary.passes) {
      const reported = Object.entries(pass.statistics).filter(([, value]) => value !== 0);
      const statistics = reported.map(([name, value]) => `${formatInteger(value)} ${escapeForTerminal(name)}`).join(', ');
      const runs = (pass.runs > 1 ? ` ×${pass.runs}` : '').padEnd(runsWidth);
      lines.push(`  ${escapeForTerminal(pass.name).padEnd(width)}  ${formatMs(pass.ms).padStart(9)}${runs}  ${statistics ? statistics : style('dim', 'no change reported')}`);
    }
  }
  lines.push('');
  const size = summary.output.bytes === null ? '' : ` (${formatBytes(summary.output.bytes)}${summary.input.bytes !== null ? `, input ${formatBytes(summary.input.bytes)}` : ''})`;
  lines.push(`${style('bold', 'wrote')} ${style('cyan', escapeForTerminal(summary.output.path))}${size}`);
  return lines.join('\n');
}

interface Row {
  label: string;
  before: number;
  after: number;
  format: (n: number) => string;
}

function formatChange(row: Row): string {
  const delta = row.after - row.before;
  if (delta === 0) return '=';
  const sign = delta > 0 ? '+' : '-';
  const percent = row.before === 0 ? '' : ` (${sign}${((Math.abs(delta) / row.before) * 100).toFixed(1)}%)`;
  return `${sign}${row.format(Math.abs(delta))}${percent}`;
}

export function formatInteger(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
