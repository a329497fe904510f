/**
 * Histogram sampling (`CalibrationOptions.histogramStride`): the histogram of a large tensor counts
 * 1 in p of its values instead of all of them, since binning and counting each value is what makes the
 * histogram methods cost more than minmax (tools/bench/quantize/RESULTS-calibration-memory.md). The
 * min, max, element count and finiteness check stay over every value, so a range's ends and the
 * NaN/±Infinity handling are exact; only the shape of the histogram between them is estimated.
 *
 * Which values (the same whichever way a part is collected — in ORT by `StatisticsGraph`, or in
 * JavaScript by `HistogramStatistics.add` — and whatever the part sizes):
 * - **The stride p** of a tensor is fixed before calibration: the smallest prime ≥ the requested stride N
 *   that divides neither the tensor's last dimension nor its size per sample (the product of its
 *   dimensions after the first), where the shape inference knows them. A stride that divides the
 *   innermost dimension would count the same columns of every row (say, always a border column), and
 *   one that divides the per-sample size the same positions of every sample. Where a dimension is not
 *   known, only the known ones are checked. N = 1 counts every value (the exact histogram).
 * - **The values**: each tensor's values are numbered in the order calibration sees them (parts one
 *   after the other, each flattened), and a part counts the values whose number is a multiple of p
 *   (the offset is 0). The numbering runs across parts, so splitting batches into other parts counts
 *   the same values.
 * - **Small parts count everything**: a part of fewer than p × `HISTOGRAM_STRIDE_MIN_COUNTED` values of
 *   a tensor (fewer than that many values would be counted) counts all of its values. Decided per run
 *   from the run's real size (in the graph from its Shape), so symbolic sizes need nothing known
 *   ahead. Such a part's values weigh 1 in the histogram and a sampled part's p; with the uniform parts
 *   calibration runs (see `batch-split.ts`) only the first one-sample part and a short last one differ.
 * - Models below ONNX opset 10 (no `steps` in Slice) count every value.
 */
import type { Model, Type, Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';

/** A part is sampled only where at least this many of its values would be counted (p × this values or more). */
export const HISTOGRAM_STRIDE_MIN_COUNTED = 2048;

/** The first ONNX opset whose Slice takes `steps`. */
export const SAMPLING_FROM_OPSET = 10;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** The stride a tensor of `type` uses when `requested` is asked for (see the module comment). */
export function histogramStrideFor(type: Type | undefined, requested: number): number {
  if (requested <= 1) return 1;
  const shape = type?.kind === 'tensor' ? type.shape : undefined;
  const last = shape && shape.length > 0 && typeof shape[shape.length - 1] === 'number' ? (shape[shape.length - 1] as number) : undefined;
  const rest = shape && shape.length > 0 ? shape.slice(1) : undefined;
  const perSample = rest && rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : undefined;
  for (let p = Math.max(2, Math.ceil(requested)); ; p++) {
    if (!isPrime(p)) continue;
    if (last !== undefined && last > 0 && last % p === 0) continue;
    if (perSample !== undefined && perSample > 0 && perSample % p === 0) continue;
    return p;
  }
}

/** The stride one part of `size` values of a tensor with stride `stride` is counted at (1 below the threshold). */
export function partStride(size: number, stride: number): number {
  return stride > 1 && size >= stride * HISTOGRAM_STRIDE_MIN_COUNTED ? stride : 1;
}

/** The index of the first counted value of a part that starts at value number `position` (counted: numbers ≡ 0 mod stride). */
export function partStart(position: number, stride: number): number {
  return (stride - (position % stride)) % stride;
}

/** Every value of the main graph and its subgraphs, each with its type. */
function typesOf(model: Model): Map<Value, Type> {
  const types = new Map<Value, Type>();
  const visit = (graph: Model['graph']) => {
    for (const value of graph.inputs) types.set(value, value.type);
    for (const value of graph.constants) types.set(value, value.type);
    for (const node of graph.nodeList()) {
      for (const value of node.outputs) if (value) types.set(value, value.type);
      for (const subgraph of node.subgraphs) visit(subgraph);
    }
  };
  visit(model.graph);
  return types;
}

/**
 * Each tensor's histogram stride for `requested` (see the module comment): shapes that the model does
 * not declare are inferred for the choice and the model's types are put back as they were.
 */
export function histogramStrides(model: Model, tensors: readonly string[], requested: number): Map<string, number> {
  const strides = new Map<string, number>(tensors.map((name) => [name, 1]));
  const opset = model.opset('onnx') ?? model.opset('') ?? 0;
  if (requested <= 1 || opset < SAMPLING_FROM_OPSET) return strides;
  const declared = typesOf(model);
  try {
    inferShapes(model);
  } catch {
    // A model the inference cannot follow keeps its declared types: unknown dimensions are not checked.
  }
  try {
    for (const name of tensors) strides.set(name, histogramStrideFor(model.graph.getValue(name)?.type, requested));
  } finally {
    for (const [value, type] of declared) if (value.type !== type) value.type = type;
  }
  return strides;
}
