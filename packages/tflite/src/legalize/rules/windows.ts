import { Tensor, tensorType, type Value } from '@modelpass/ir';
import { WINDOW_COEFFICIENTS } from '@modelpass/ops';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Hann/Hamming/Blackman windows of a run-time size (a constant size is folded into a constant
 * before lowering): n = RANGE(0, size), phase = 2πn/N with N = size (periodic) or size − 1,
 * w = a0 − a1·cos(phase) + a2·cos(2·phase). float32 output only.
 * MelWeightMatrix is covered only when its inputs are constants (fold-constants computes it).
 */
const NONE = { fused_activation_function: 'NONE' };

const runTimeWindow: LoweringRule = {
  ops: Object.keys(WINDOW_COEFFICIENTS),
  stage: 'lower',
  targets: ['CAST', 'RANGE', 'SUB', 'DIV', 'MUL', 'COS', 'ADD'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'int32' && dtype !== 'int64') return `the window size must be an int32 or int64 scalar (is ${dtype ?? 'untyped'})`;
    const output = node.optionalAttr('output_datatype', 'int') ?? 1;
    return output === 1 ? undefined : `${node.op} with output_datatype ${output} is lowered for float32 (1) only`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const [a0, a1, a2] = WINDOW_COEFFICIENTS[node.op]!;
    const scalarType = tensorType('float32', []);
    const type = node.output(0).type;
    const f = (value: number, name: string): Value => emit.constant(Tensor.scalar('float32', value), name);
    const from = tensorTypeOf(node.inputs[0])!.dtype === 'int64' ? 'INT64' : 'INT32';
    const size = emit.op1('CAST', [node.input(0)], { in_data_type: from, out_data_type: 'FLOAT32' }, scalarType);
    const n = emit.op1('RANGE', [f(0, 'start'), size, f(1, 'delta')], {}, type);
    const periodic = (node.optionalAttr('periodic', 'int') ?? 1) === 1;
    const period = periodic ? size : emit.op1('SUB', [size, f(1, 'one')], NONE, scalarType);
    const step = emit.op1('DIV', [f(2 * Math.PI, 'two_pi'), period], NONE, scalarType);
    const phase = emit.op1('MUL', [n, step], NONE, type);
    let w = emit.op1('SUB', [f(a0, 'a0'), emit.op1('MUL', [emit.op1('COS', [phase], {}, type), f(a1, 'a1')], NONE, type)], NONE, type);
    if (a2 !== 0) w = emit.op1('ADD', [w, emit.op1('MUL', [emit.op1('COS', [emit.op1('MUL', [phase, f(2, 'two')], NONE, type)], {}, type), f(a2, 'a2')], NONE, type)], NONE, type);
    replaceNode(node, [w]);
  },
};

const MEL_REASON = 'MelWeightMatrix with run-time inputs has no TFLite lowering (its output shape and filter edges follow the inputs); with constant inputs fold-constants computes it before lowering';

/** MelWeightMatrix with a run-time input: refused with why (constant inputs are folded before lowering). */
const melWeightMatrix: LoweringRule = {
  ops: ['onnx.MelWeightMatrix'],
  stage: 'lower',
  targets: [],
  check: () => MEL_REASON,
  lower: (node) => {
    throw node.error(MEL_REASON);
  },
};

export const windowRules: readonly LoweringRule[] = [runTimeWindow, melWeightMatrix];
