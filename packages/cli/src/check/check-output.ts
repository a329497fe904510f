/** What `convert --check` prints on stderr: one line per checked pass, and the failure in full. */
import type { PassRunInfo } from '@modelpass/pass-manager';
import { notComparableText, type CheckReport, type OutputsCheck, type ReportNumber } from '@modelpass/report';
import { checkFailureReason, type CheckFailure } from './check-instrumentation.js';

function number(x: ReportNumber | number | null | undefined): string {
  if (x === null || x === undefined) return 'n/a';
  if (typeof x === 'string') return x === 'Infinity' ? 'inf' : x === '-Infinity' ? '-inf' : x;
  if (x === 0 || Number.isInteger(x)) return String(x);
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6 ? x.toExponential(2) : x.toPrecision(4);
}

/** `check #2 fuse-bn: ok — max abs 1.2e-6, max rel 3.4e-5, cosine 1, top-1 agreement 1 (onnxruntime)` */
export function formatCheckLine(pass: PassRunInfo, check: OutputsCheck): string {
  // Outputs that changed shape or went missing have no error figures ("Infinity"): named apart.
  const comparable = check.outputs.filter((o) => notComparableText(o) === undefined);
  const worstAbs = comparable.reduce<ReportNumber>((worst, o) => (rank(o.maxAbsError) > rank(worst) ? o.maxAbsError : worst), 0);
  const worstRel = comparable.reduce<ReportNumber>((worst, o) => (rank(o.maxRelError) > rank(worst) ? o.maxRelError : worst), 0);
  const cosines = comparable.map((o) => o.cosine).filter((c): c is number => c !== null);
  const agreements = comparable.map((o) => o.top1Agreement).filter((c): c is number => c !== null);
  const parts = check.outputs.filter((o) => notComparableText(o) !== undefined).map((o) => `output '${o.name}' ${notComparableText(o)!}`);
  if (comparable.length > 0) parts.push(`max abs ${number(worstAbs)}`, `max rel ${number(worstRel)}`);
  if (cosines.length) parts.push(`cosine ${number(Math.min(...cosines))}`);
  if (agreements.length) parts.push(`top-1 agreement ${number(Math.min(...agreements))}`);
  if (check.accuracy) parts.push(`accuracy ${(100 * check.accuracy.top1).toFixed(2)}%`);
  const verdict = check.withinTolerance && check.withinBudget !== false ? 'ok' : 'FAILED';
  return `modelpass: check #${pass.index} ${pass.passName}: ${verdict} — ${parts.join(', ')} (${check.engine})`;
}

function rank(x: ReportNumber): number {
  return typeof x === 'number' ? x : x === 'NaN' || x === 'Infinity' ? Infinity : -Infinity;
}

/** The failure: the reason line, the broken outputs, the bisection, notes and the reproducer. */
export function formatCheckFailure(failure: CheckFailure, report: CheckReport): string {
  const lines = [`modelpass: error: ${checkFailureReason(failure)}`];
  for (const o of failure.check.outputs) {
    if (o.withinTolerance) continue;
    const notComparable = notComparableText(o);
    if (notComparable) {
      lines.push(`  output '${o.name}': ${notComparable}`);
      continue;
    }
    lines.push(`  output '${o.name}': ${o.mismatchedElements} of ${o.elementCount} elements outside the tolerance; max abs ${number(o.maxAbsError)}, max rel ${number(o.maxRelError)}, cosine ${number(o.cosine)}${o.top1Agreement !== null ? `, top-1 agreement ${number(o.top1Agreement)}` : ''}`);
  }
  const d = failure.divergence;
  if (d) lines.push(`  first diverging node (of ${d.comparedTensors} intermediate tensors compared in order): '${d.node}' (${d.op})${d.location ? ` ${d.location.startsWith('at ') ? '' : 'at '}${d.location}` : ''}, output '${d.tensor}': ${notComparableText(d) ?? `max abs ${number(d.maxAbsError)}, cosine ${number(d.cosine)}`}`);
  for (const note of report.notes ?? []) lines.push(`  note: ${note}`);
  if (failure.reproducer) lines.push(`  a reproducer (the model before the pass, the pass, the inputs) was written to ${failure.reproducer}; see CHECK.md there`);
  lines.push('  the output file was not written');
  return lines.join('\n');
}
