import { tensorType, type Dim } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';
import { batchNormAsScaleShift } from './normalization.js';

/**
 * BatchNormalization (inference, constant statistics) left standalone on a rank > 4 input (the
 * preparation turns ranks 2–4 into Mul/Add): TFLite 2.9's ADD/MUL broadcast at most 4-D, so the
 * spatial dims are merged — RESHAPE to [N, C, D·H·W], MUL/ADD by [C, 1] constants, RESHAPE back.
 */
const batchNormHighRank: LoweringRule = {
  ops: ['onnx.BatchNormalization'],
  stage: 'lower',
  targets: ['RESHAPE', 'MUL', 'ADD'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'BatchNormalization is lowered for float32 only';
    if (!dims || dims.length < 2) return 'BatchNormalization needs an input of known rank ≥ 2';
    if (node.outputs.slice(1).some((v) => v?.hasUses) || (node.optionalAttr('training_mode', 'int') ?? 0) === 1) return 'BatchNormalization in training mode (batch statistics, running mean/var outputs) has no TFLite equivalent';
    if (!batchNormAsScaleShift(node)) return 'BatchNormalization needs constant scale, bias, mean and variance';
    const merged = dims.slice(2).every((d) => typeof d === 'number') ? 1 : undefined;
    return reshapeTarget([dims[0]!, dims[1]!, merged ?? 'rest']) && reshapeTarget(dims) ? undefined : 'BatchNormalization on more than one unknown dim cannot be reshaped for TFLite';
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const { scale, shift } = batchNormAsScaleShift(node)!;
    const channels = scale.size;
    const spatial = dims.slice(2);
    const merged: Dim = spatial.every((d) => typeof d === 'number') ? (spatial as number[]).reduce((n, d) => n * d, 1) : `${node.name}_spatial`;
    const workDims: Dim[] = [dims[0]!, dims[1]!, merged];
    const workType = tensorType('float32', workDims);
    const x = emit.op1('RESHAPE', [node.input(0), emit.int32(reshapeTarget(workDims)!, [3], 'merged')], {}, workType);
    const none = { fused_activation_function: 'NONE' };
    const scaled = emit.op1('MUL', [x, emit.constant(scale.reshape([channels, 1]), 'scale')], none, workType);
    const shifted = emit.op1('ADD', [scaled, emit.constant(shift.reshape([channels, 1]), 'shift')], none, workType);
    replaceNode(node, [emit.op1('RESHAPE', [shifted, emit.int32(reshapeTarget(dims)!, [dims.length], 'shape')], {}, node.output(0).type), null, null]);
  },
};

export const batchNormHighRankRules: readonly LoweringRule[] = [batchNormHighRank];
