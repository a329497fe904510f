import { ModelpassError } from '@modelpass/ir';
import type { StepHost } from '../static/nested-pass.js';
import type { StaticQuantizationOptions } from '../static/quantize-static.js';
export interface AccuracyBudget { readonly maxDrop: number; readonly evalDataset: string }
export async function accuracyAwareExclusions(
  _floatBytes: Uint8Array,
  _ranges: ReadonlyMap<string, { min: number; max: number }>,
  _options: StaticQuantizationOptions,
  _budget: AccuracyBudget,
  _host: StepHost,
): Promise<{ exclude: readonly string[] }> {
  throw new ModelpassError({ reason: 'max-drop is not finished yet', source: '@modelpass/quantize', code: 'quantize/accuracy' });
}
