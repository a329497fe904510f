/**
 * The check table's rows and verdict text: an output whose shape changed, or that one side lacks, is
 * said so ("shape [1,16] → [1,12]", "missing after the pipeline") — never printed as an error of
 * "Infinity", which reads as if the values had blown up.
 */
import type { ComparisonReport, OutputComparison } from '@modelpass/runtime/reference';
import type { CheckRow } from './messages.js';

function dims(shape: readonly number[] | undefined): string {
  return shape ? `[${shape.join(',')}]` : '[?]';
}

/** Why an output was not compared element by element, or undefined when it was. */
export function notComparedText(output: OutputComparison): string | undefined {
  if (!output.present) return output.actualShape === undefined ? 'missing after the pipeline' : 'new after the pipeline';
  if (!output.shapeMatch) return `shape ${dims(output.expectedShape)} → ${dims(output.actualShape)}`;
  return undefined;
}

export function checkRowOf(output: OutputComparison): CheckRow {
  const notCompared = notComparedText(output);
  return {
    output: output.name,
    difference: notCompared ?? output.maxAbsError.toExponential(2),
    cosine: output.cosine,
    withinTolerance: output.withinTolerance,
  };
}

/** "max abs error 1.20e-7", or what made the outputs not comparable. */
export function verdictDetail(comparison: ComparisonReport): string {
  const notCompared = comparison.perOutput.map((o) => [o.name, notComparedText(o)] as const).filter(([, text]) => text !== undefined);
  if (notCompared.length > 0) return `not compared: ${notCompared.map(([name, text]) => `'${name}' ${text}`).join(', ')}`;
  return `max abs error ${comparison.maxAbsError.toExponential(2)}`;
}
