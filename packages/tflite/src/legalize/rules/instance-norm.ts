import { Tensor, type Node } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * InstanceNormalization in channels-last: per sample and channel, over the spatial axes,
 * y = (x − mean) · rsqrt(var + ε) · scale + bias, with MEAN/SUB/MUL/ADD/RSQRT; scale and bias
 * (shape [C]) broadcast along the last axis.
 */
const instanceNorm: LoweringRule = {
  ops: ['onnx.InstanceNormalization'],
  stage: 'layout',
  targets: ['MEAN', 'SUB', 'MUL', 'ADD', 'RSQRT'],
  check(node: Node) {
    const dims = dimsOf(node.inputs[0]);
    if (!dims || dims.length < 3) return 'InstanceNormalization needs an input of known rank ≥ 3 (N, C, spatial…)';
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'InstanceNormalization is lowered for float32 only';
    for (const index of [1, 2]) {
      const operand = dimsOf(node.inputs[index]);
      if (!constantOf(node.inputs[index]) && (!operand || operand.length !== 1)) return 'scale and bias must be constants or 1-D';
    }
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const rank = dimsOf(node.inputs[0])!.length;
    const epsilon = node.optionalAttr('epsilon', 'float') ?? 1e-5;
    const x = toChannelsLast(emit, node.input(0));
    const full = channelsLastType(node);
    const xDims = dimsOf(x)!;
    const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 1);
    const statsType = typeWithShape(full, xDims.map((d, i) => (spatial.includes(i) ? 1 : d)));
    const axes = emit.int32(spatial, [spatial.length], 'axes');
    const fusible = { fused_activation_function: 'NONE' };
    const mean = emit.op1('MEAN', [x, axes], { keep_dims: 1 }, statsType);
    const centered = emit.op1('SUB', [x, mean], fusible, full);
    const variance = emit.op1('MEAN', [emit.op1('MUL', [centered, centered], fusible, full), axes], { keep_dims: 1 }, statsType);
    const epsilonValue = emit.constant(Tensor.fromValues('float32', [], [epsilon]), 'epsilon');
    const inverse = emit.op1('RSQRT', [emit.op1('ADD', [variance, epsilonValue], fusible, statsType)], {}, statsType);
    const normalized = emit.op1('MUL', [centered, inverse], fusible, full);
    const scaled = emit.op1('MUL', [normalized, node.input(1)], fusible, full);
    const y = emit.op1('ADD', [scaled, node.input(2)], fusible, full);
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

export const instanceNormRules: readonly LoweringRule[] = [instanceNorm];
