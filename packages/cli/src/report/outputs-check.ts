/** A runtime output comparison as the report's `OutputsCheck`. */
import type { ComparisonReport } from '@modelpass/runtime';
import { reportNumber, type OutputsCheck } from '@modelpass/report';

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
    })),
    ...(extra.accuracy ? { accuracy: extra.accuracy } : {}),
    withinTolerance: comparison.withinTolerance,
    ...(extra.withinBudget !== undefined ? { withinBudget: extra.withinBudget } : {}),
    ...(extra.notes && extra.notes.length > 0 ? { notes: extra.notes } : {}),
  };
}
