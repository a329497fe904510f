/**
 * LpNormalization (x / ‖x‖p along one axis, 0 where the norm is 0) and MeanVarianceNormalization
 * ((x - mean) / (std + 1e-9) over `axes`, as ONNX's function body). Float64 inside, one rounding out.
 */
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers, tensorFromElements } from '../util/elements.js';
import { sameAsInput } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxes, normalizeAxis, stridesOf } from '../util/shape.js';

/** For each element, the index of its group when the given axes are collapsed (reduced). */
function groupIndexOf(shape: readonly number[], reduced: ReadonlySet<number>): { groups: Int32Array; count: number } {
  const kept = shape.map((dim, axis) => (reduced.has(axis) ? 1 : dim));
  const keptStrides = stridesOf(kept);
  const strides = stridesOf(shape);
  const total = shape.reduce((a, b) => a * b, 1);
  const groups = new Int32Array(total);
  for (let flat = 0; flat < total; flat++) {
    let group = 0;
    for (let axis = 0; axis < shape.length; axis++) {
      if (reduced.has(axis)) continue;
      group += (Math.floor(flat / strides[axis]!) % shape[axis]!) * keptStrides[axis]!;
    }
    groups[flat] = group;
  }
  return { groups, count: kept.reduce((a, b) => a * b, 1) };
}

export const lpNormalizationOp = defineCanonicalOp({
  op: 'onnx.LpNormalization',
  summary: 'x / Lp-norm(x) along axis (p = 1 or 2); zero where the norm is zero',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: -1 }, p: { kind: 'int', default: 2, oneOf: [1, 2] } },
  inferTypes: sameAsInput(0),
  kernel(inputs, context) {
    const x = inputTensor(inputs, 0, context);
    const axis = normalizeAxis(context.node.attr('axis', 'int', -1), x.rank, context.node);
    const p = context.node.attr('p', 'int', 2);
    if (p !== 1 && p !== 2) throw opError(context.node, `p must be 1 or 2`, { actual: String(p) });
    const data = readNumbers(x);
    const { groups, count } = groupIndexOf(x.shape, new Set([axis]));
    const norms = new Float64Array(count);
    for (let i = 0; i < data.length; i++) norms[groups[i]!]! += p === 1 ? Math.abs(data[i]!) : data[i]! * data[i]!;
    if (p === 2) for (let g = 0; g < count; g++) norms[g] = Math.sqrt(norms[g]!);
    const out = Float64Array.from(data, (v, i) => (norms[groups[i]!] === 0 ? 0 : v / norms[groups[i]!]!));
    return [tensorFromElements(x.dtype, x.shape, out)];
  },
});

export const meanVarianceNormalizationOp = defineCanonicalOp({
  op: 'onnx.MeanVarianceNormalization',
  summary: '(x - mean) / (sqrt(E[x²] - mean²) + 1e-9), statistics over axes (default [0, 2, 3])',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  attributes: { axes: { kind: 'ints', default: [0, 2, 3] } },
  inferTypes: sameAsInput(0),
  kernel(inputs, context) {
    const x = inputTensor(inputs, 0, context);
    const axes = normalizeAxes(context.node.attr('axes', 'ints', [0, 2, 3]), x.rank, context.node);
    const data = readNumbers(x);
    const { groups, count } = groupIndexOf(x.shape, new Set(axes));
    const sums = new Float64Array(count);
    const squares = new Float64Array(count);
    const members = new Float64Array(count);
    for (let i = 0; i < data.length; i++) {
      const g = groups[i]!;
      sums[g]! += data[i]!;
      squares[g]! += data[i]! * data[i]!;
      members[g]!++;
    }
    const out = Float64Array.from(data, (v, i) => {
      const g = groups[i]!;
      const mean = sums[g]! / members[g]!;
      const std = Math.sqrt(Math.max(squares[g]! / members[g]! - mean * mean, 0));
      return (v - mean) / (std + 1e-9);
    });
    return [tensorFromElements(x.dtype, x.shape, out)];
  },
});

export const featureNormalizationOps = [lpNormalizationOp, meanVarianceNormalizationOp];
