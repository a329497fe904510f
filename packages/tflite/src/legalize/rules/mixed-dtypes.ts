import { Tensor, tensorType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeName, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { CAST_DTYPES } from './elementwise.js';

/**
 * ONNX ops whose operands may differ in dtype where the TFLite builtin wants one: the other operand
 * is CAST first (a constant one converted offline).
 */

const INTEGER_EXPONENTS = ['int32', 'int64'];

/**
 * Pow(x, y) → POW on float32: an int32/int64 exponent (ONNX allows it; TFLite's POW takes one dtype)
 * is CAST to float32, exactly (|y| < 2^24). Integer bases are refused: TFLite's integer POW fails on
 * a negative exponent, where ONNX Runtime returns a value.
 */
const pow: LoweringRule = {
  ops: ['onnx.Pow'],
  stage: 'lower',
  targets: ['POW', 'CAST'],
  check(node) {
    const base = tensorTypeOf(node.inputs[0])?.dtype;
    const exponent = tensorTypeOf(node.inputs[1])?.dtype;
    if (base !== 'float32') return `onnx.Pow on ${base ?? 'untyped'} tensors has no TFLite kernel (takes float32 bases)`;
    if (exponent !== 'float32' && !INTEGER_EXPONENTS.includes(exponent ?? '')) return `onnx.Pow with a ${exponent ?? 'untyped'} exponent is not supported (float32, int32, int64)`;
    const shapes = [dimsOf(node.inputs[0]), dimsOf(node.inputs[1])];
    if (shapes.some((dims) => (dims?.length ?? 0) > 4) && JSON.stringify(shapes[0]) !== JSON.stringify(shapes[1])) return 'onnx.Pow broadcasting operands of rank > 4 has no TFLite 2.9 kernel (it broadcasts at most 4-D)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    let exponent = node.input(1);
    const dtype = tensorTypeOf(exponent)!.dtype;
    if (dtype !== 'float32') {
      const known = constantOf(exponent);
      exponent = known
        ? emit.constant(Tensor.fromValues('float32', known.shape, known.toNumbers()), 'exponent')
        : emit.op1('CAST', [exponent], { in_data_type: tensorTypeName(dtype)!, out_data_type: 'FLOAT32' }, tensorType('float32', dimsOf(exponent) ?? null));
    }
    replaceNode(node, [emit.op1('POW', [node.input(0), exponent], {}, node.output(0).type)]);
  },
};

/** CastLike(x, like) → CAST to `like`'s dtype (nothing when it is x's already). */
const castLike: LoweringRule = {
  ops: ['onnx.CastLike'],
  stage: 'lower',
  targets: ['CAST'],
  check(node) {
    const from = tensorTypeOf(node.inputs[0])?.dtype;
    const to = tensorTypeOf(node.inputs[1])?.dtype;
    if (!from || !to) return 'CastLike needs the dtypes of both inputs (run shape inference first)';
    if (from !== to && (!CAST_DTYPES.includes(from) || !CAST_DTYPES.includes(to))) return `TFLite 2.9's CAST takes ${CAST_DTYPES.join(', ')}; this one is ${from} → ${to}`;
    return undefined;
  },
  lower(node, context) {
    const from = tensorTypeOf(node.inputs[0])!.dtype;
    const to = tensorTypeOf(node.inputs[1])!.dtype;
    if (from === to) {
      // The input itself, unless a graph output would then be a graph input (a RESHAPE copy keeps them apart).
      const input = node.input(0);
      if (!node.output(0).isGraphOutput || input.producer) return replaceNode(node, [input]);
      const emit = new TfliteEmitter(node, context);
      const dims = dimsOf(input) ?? [];
      return replaceNode(node, [emit.op1('RESHAPE', [input, emit.int32(dims.map((d) => (typeof d === 'number' ? d : -1)), [dims.length], 'shape')], {}, node.output(0).type)]);
    }
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('CAST', [node.input(0)], { in_data_type: tensorTypeName(from)!, out_data_type: tensorTypeName(to)! }, node.output(0).type)]);
  },
};

export const mixedDtypeRules: readonly LoweringRule[] = [pow, castLike];
