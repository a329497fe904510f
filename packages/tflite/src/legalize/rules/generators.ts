import { Tensor, type DType } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/** Range and ConstantOfShape computed at run time (constant ones are folded before legalizing). */

const RANGE_DTYPES: readonly DType[] = ['float32', 'int32', 'int64'];

/** Range(start, limit, delta) → RANGE (same operands, same result length ⌈(limit − start)/delta⌉). */
const range: LoweringRule = {
  ops: ['onnx.Range'],
  stage: 'lower',
  targets: ['RANGE'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    return dtype && RANGE_DTYPES.includes(dtype) ? undefined : `Range of ${dtype ?? 'untyped'} values is not supported (float32, int32, int64)`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('RANGE', [node.input(0), node.input(1), node.input(2)], {}, node.output(0).type)]);
  },
};

/** ConstantOfShape(shape) → FILL(shape, value) (value: the attribute's one element, default float 0). */
const constantOfShape: LoweringRule = {
  ops: ['onnx.ConstantOfShape'],
  stage: 'lower',
  targets: ['FILL'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'int64' && dtype !== 'int32') return 'the shape must be an int64 or int32 tensor';
    const value = node.optionalAttr('value', 'tensor');
    if (value && !['float32', 'int32', 'int64', 'bool'].includes(value.dtype)) return `a fill value of dtype ${value.dtype} is not supported (FILL takes float32, int32, int64, bool)`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const value = node.optionalAttr('value', 'tensor') ?? Tensor.fromValues('float32', [1], [0]);
    const scalar = value.reshape([]);
    const shape = constantOf(node.inputs[0]) ? emit.int32(numbersOf(node.inputs[0])!, undefined, 'shape') : node.input(0);
    replaceNode(node, [emit.op1('FILL', [shape, emit.constant(scalar, 'value')], {}, node.output(0).type)]);
  },
};

export const generatorRules: readonly LoweringRule[] = [range, constantOfShape];
