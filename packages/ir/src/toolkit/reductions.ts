import type { Tensor } from '../tensor.js';
import { axisLayout, requireNumeric, toolkitError } from './layout.js';

/** How `reduceAlongAxis` folds the elements of each slice. */
export type Reduction = 'min' | 'max' | 'absmax' | 'l1' | 'l2' | 'mean' | 'sum';

interface Reducer {
  readonly initial: number;
  step(accumulator: number, value: number): number;
  finish(accumulator: number, count: number): number;
}

const REDUCERS: Readonly<Record<Reduction, Reducer>> = {
  min: { initial: Number.POSITIVE_INFINITY, step: (a, v) => (v < a || Number.isNaN(v) ? v : a), finish: (a) => a },
  max: { initial: Number.NEGATIVE_INFINITY, step: (a, v) => (v > a || Number.isNaN(v) ? v : a), finish: (a) => a },
  absmax: { initial: 0, step: (a, v) => (Math.abs(v) > a || Number.isNaN(v) ? Math.abs(v) : a), finish: (a) => a },
  l1: { initial: 0, step: (a, v) => a + Math.abs(v), finish: (a) => a },
  l2: { initial: 0, step: (a, v) => a + v * v, finish: (a) => Math.sqrt(a) },
  mean: { initial: 0, step: (a, v) => a + v, finish: (a, n) => (n === 0 ? Number.NaN : a / n) },
  sum: { initial: 0, step: (a, v) => a + v, finish: (a) => a },
};

/** The reductions `reduceAlongAxis` knows. */
export const REDUCTIONS = Object.freeze(Object.keys(REDUCERS) as Reduction[]);

/**
 * One number per index along `axis`, folding everything else (per-channel statistics: with a
 * Conv weight `[O, I, kH, kW]` and `axis` 0, `l1` gives each output channel's L1 norm). With
 * `axis` undefined, one number for the whole tensor. Accumulates in float64; NaN propagates
 * through min/max/absmax. An empty slice gives the reduction's identity (mean: NaN).
 */
export function reduceAlongAxis(tensor: Tensor, reduction: Reduction, axis?: number): Float64Array {
  requireNumeric(tensor, `reduceAlongAxis(${reduction})`);
  const reducer = REDUCERS[reduction];
  if (!reducer) throw toolkitError(`unknown reduction '${String(reduction)}'`, { expected: REDUCTIONS.join(', ') });
  const values = tensor.toNumbers();
  if (axis === undefined) {
    let accumulator = reducer.initial;
    for (const value of values) accumulator = reducer.step(accumulator, value);
    return Float64Array.of(reducer.finish(accumulator, values.length));
  }
  const { outer, dim, inner } = axisLayout(tensor.shape, axis);
  const accumulators = new Float64Array(dim).fill(reducer.initial);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < dim; c++) {
      let accumulator = accumulators[c]!;
      for (let k = 0; k < inner; k++) accumulator = reducer.step(accumulator, values[i++]!);
      accumulators[c] = accumulator;
    }
  }
  const count = outer * inner;
  return accumulators.map((accumulator) => reducer.finish(accumulator, count));
}
