import { Tensor, tensorType } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * AffineGrid (constant size) → BATCH_MATMUL of the constant homogeneous base grid `[N, L, d + 1]`
 * (each output location's normalized (x, y[, z], 1)) by theta `[N, d, d + 1]` (adj_y), RESHAPE to
 * `[N, …spatial, d]`. The base grid uses the same definition as the reference kernel.
 */

/** Normalized coordinate of position `i` of `length` (as the canonical op defines it). */
function normalized(i: number, length: number, alignCorners: boolean): number {
  if (alignCorners) return length === 1 ? 0 : -1 + (2 * i) / (length - 1);
  return (2 * i + 1) / length - 1;
}

const affineGrid: LoweringRule = {
  ops: ['onnx.AffineGrid'],
  stage: 'lower',
  targets: ['BATCH_MATMUL', 'RESHAPE'],
  check(node) {
    const size = numbersOf(node.inputs[1]);
    if (!size) return 'AffineGrid needs a constant size';
    if (size.length !== 4 && size.length !== 5) return `size [${size.join(',')}] must have 4 or 5 entries`;
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'AffineGrid is supported on float32 theta';
    if (!staticDims(node.inputs[0])) return 'AffineGrid needs a static theta shape';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const size = numbersOf(node.inputs[1])!;
    const [n, spatial] = [size[0]!, size.slice(2)];
    const dims = spatial.length;
    const align = (node.optionalAttr('align_corners', 'int') ?? 0) === 1;
    const count = spatial.reduce((a, b) => a * b, 1);
    const base: number[] = [];
    for (let b = 0; b < n; b++) {
      for (let flat = 0; flat < count; flat++) {
        let rest = flat;
        for (let axis = dims - 1; axis >= 0; axis--) {
          base.push(normalized(rest % spatial[axis]!, spatial[axis]!, align));
          rest = Math.floor(rest / spatial[axis]!);
        }
        base.push(1);
      }
    }
    const grid = emit.constant(Tensor.fromValues('float32', [n, count, dims + 1], base), 'base_grid');
    const product = emit.op1('BATCH_MATMUL', [grid, node.input(0)], { adj_x: 0, adj_y: 1 }, tensorType('float32', [n, count, dims]));
    replaceNode(node, [emit.op1('RESHAPE', [product, emit.int32([n, ...spatial, dims], [dims + 2], 'shape')], {}, node.output(0).type)]);
  },
};

export const affineGridRules: readonly LoweringRule[] = [affineGrid];
