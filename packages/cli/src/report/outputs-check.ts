/** A runtime output comparison as the report's `OutputsCheck`. */
import type { ComparisonReport } from '@modelpass/runtime';
import { reportNumber, shapeChangeOf, type OutputsCheck } from '@modelpass/report';

export function outputsCheck(comparison: ComparisonReport, engine: string, extra: Partial<Pick<OutputsCheck, 'accuracy' | 'withinBudget' | 'notes'>> = {}): OutputsCheck {
  return {
    engine,
    atol: comparison.atol,
    rtol: comparison.rtol,
    outputs: comparison.perOutput.map((o) => ({
      name: o.name,
      maxAbsError: reportNumber(o.maxAbsError),
      maxRelError: reportNumber(o.maxRelError),
      cosine: o.cosine,
      top1Agreement: o.top1Agreement,
      elementCount: o.elementCount,
      mismatchedElements: o.mismatchedElements,
      withinTolerance: o.withinTolerance,
      ...notComparable(o),
    })),
    ...(extra.accuracy ? { accuracy: extra.accuracy } : {}),
    withinTolerance: comparison.withinTolerance,
    ...(extra.withinBudget !== undefined ? { withinBudget: extra.withinBudget } : {}),
    ...(extra.notes && extra.notes.length > 0 ? { notes: extra.notes } : {}),
  };
}

/** What makes an output pair not comparable element by element: a shape change, or one side missing it. */
function notComparable(o: ComparisonReport['perOutput'][number]): Pick<OutputsCheck['outputs'][number], 'shapeChange' | 'missingIn'> {
  if (!o.present) return { missingIn: o.actualShape === undefined ? 'after' : 'before' };
  const shapeChange = o.shapeMatch ? undefined : shapeChangeOf(o.expectedShape, o.actualShape);
  return shapeChange ? { shapeChange } : {};
}
