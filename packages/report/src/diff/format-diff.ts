/** A `ModelDiff` as text for a terminal: counts first, then one line per node, tensor and IO change. */
import { notComparableText } from '../not-comparable.js';
import type { ModelDiff, ReportNumber } from '../schema.js';

export interface FormatDiffOptions {
  /** Rows per list before `… and N more` (default 50). */
  readonly maxRows?: number;
  /** Names of the two models for the heading. */
  readonly names?: readonly [string, string];
}

function number(x: ReportNumber | number | null): string {
  if (x === null) return 'n/a';
  if (typeof x === 'string') return x === 'Infinity' ? 'inf' : x === '-Infinity' ? '-inf' : x;
  if (x === 0 || Number.isInteger(x)) return String(x);
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6 ? x.toExponential(2) : x.toPrecision(4);
}

function limited<T>(items: readonly T[], max: number, line: (item: T) => string): string[] {
  const lines = items.slice(0, max).map(line);
  if (items.length > max) lines.push(`  … and ${items.length - max} more (--json lists all)`);
  return lines;
}

export function formatModelDiff(diff: ModelDiff, options: FormatDiffOptions = {}): string {
  const max = options.maxRows ?? 50;
  const lines: string[] = [];
  if (options.names) lines.push(`--- a: ${options.names[0]}`, `+++ b: ${options.names[1]}`);
  const { nodes, initializers } = diff;
  const paired = nodes.changed.length + nodes.unchanged;
  lines.push(`nodes: ${paired} paired (${nodes.unchanged} unchanged, ${nodes.changed.length} changed), ${nodes.removed.length} removed, ${nodes.added.length} added`);
  lines.push(...limited(nodes.removed, max, (n) => `  - ${n.name} (${n.op})`));
  lines.push(...limited(nodes.added, max, (n) => `  + ${n.name} (${n.op})`));
  lines.push(
    ...limited(nodes.changed, max, (c) => {
      const parts: string[] = [];
      if (c.opAfter) parts.push(`op ${c.op} → ${c.opAfter}`);
      for (const input of c.inputs) {
        const kinds = input.beforeKind && input.afterKind ? ` (${input.beforeKind} → ${input.afterKind})` : '';
        const names = input.before === input.after ? `${input.before ?? '∅'}` : `${input.before ?? '∅'} → ${input.after ?? '∅'}`;
        parts.push(`input ${input.index} ${names}${kinds}`);
      }
      for (const a of c.attributes) parts.push(`${a.name} ${a.before ?? '∅'} → ${a.after ?? '∅'}`);
      const name = c.renamedTo ? `${c.name} → ${c.renamedTo}` : c.name;
      return `  ~ ${name} (${c.op}${c.matchedBy === 'structure' ? ', paired by structure' : ''}): ${parts.join('; ')}`;
    }),
  );
  lines.push(`initializers: ${initializers.unchanged} unchanged, ${initializers.changed.length} changed, ${initializers.removed.length} removed, ${initializers.added.length} added`);
  lines.push(...limited(initializers.removed, max, (t) => `  - ${t.name} ${t.dtype}[${t.shape.join(',')}]`));
  lines.push(...limited(initializers.added, max, (t) => `  + ${t.name} ${t.dtype}[${t.shape.join(',')}]`));
  lines.push(
    ...limited(initializers.changed, max, (t) => {
      const type = `${t.dtype}[${t.shape.join(',')}]`;
      const after = t.dtypeAfter || t.shapeAfter ? ` → ${t.dtypeAfter ?? t.dtype}[${(t.shapeAfter ?? t.shape).join(',')}]` : '';
      // A reshaped initializer has no element-wise error: the type change above says what happened.
      if (t.shapeAfter) return `  ~ ${t.name} ${type}${after}: shape changed (not compared element by element)`;
      return `  ~ ${t.name} ${type}${after}: max abs ${number(t.maxAbsError)}, max rel ${number(t.maxRelError)}, cosine ${number(t.cosine)}`;
    }),
  );
  for (const [label, io] of [['graph inputs', diff.graphInputs], ['graph outputs', diff.graphOutputs]] as const) {
    if (io.added.length + io.removed.length + io.changed.length === 0) {
      lines.push(`${label}: same`);
      continue;
    }
    lines.push(`${label}: ${io.changed.length} changed, ${io.removed.length} removed, ${io.added.length} added`);
    for (const v of io.removed) lines.push(`  - ${v.name}: ${v.type}`);
    for (const v of io.added) lines.push(`  + ${v.name}: ${v.type}`);
    for (const v of io.changed) lines.push(`  ~ ${v.name}: ${v.before} → ${v.after}`);
  }
  const t = diff.tensors;
  if (t) {
    const differing = t.tensors.filter((x) => !x.withinTolerance);
    const source = t.inputs.source === 'random' ? `random inputs, seed ${t.inputs.seed ?? 0}` : `inputs ${t.inputs.path ?? ''}`;
    lines.push(`intermediate tensors in both (${t.engine}, ${source}): ${t.compared} compared, ${differing.length} outside |b - a| <= ${t.atol} + ${t.rtol}·|a|`);
    if (t.firstDivergent) {
      const first = t.tensors.find((x) => x.name === t.firstDivergent)!;
      lines.push(`  first divergent: ${first.name} (node ${first.node}, ${first.op})`);
    }
    lines.push(...limited(differing, max, (x) => `  ! ${x.name} (${x.node}, ${x.op}): ${notComparableText(x) ?? `max abs ${number(x.maxAbsError)}, max rel ${number(x.maxRelError)}, cosine ${number(x.cosine)}`}`));
  }
  return lines.join('\n');
}
