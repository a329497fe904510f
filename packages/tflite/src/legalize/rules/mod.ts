import { Tensor, tensorType, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Mod. fmod=0 (integers, Python's sign-of-divisor remainder) is FLOOR_MOD. fmod=1 (C's fmod, the
 * sign of the dividend; ONNX requires it for floats): floats as x − y·trunc(x/y) with trunc =
 * CEIL below zero, FLOOR above; integers as FLOOR_MOD moved by −y where its sign differs from x's.
 */
const NUMERIC = ['float32', 'int32', 'int64'];

const mod: LoweringRule = {
  ops: ['onnx.Mod'],
  stage: 'lower',
  targets: ['FLOOR_MOD', 'DIV', 'FLOOR', 'CEIL', 'LESS', 'SELECT_V2', 'MUL', 'SUB', 'NOT_EQUAL', 'LOGICAL_AND'],
  check(node) {
    for (const input of node.inputs) {
      const dtype = tensorTypeOf(input)?.dtype;
      if (!dtype || !NUMERIC.includes(dtype)) return `Mod on ${dtype ?? 'untyped'} tensors has no TFLite kernel (takes ${NUMERIC.join(', ')})`;
    }
    const fmod = node.optionalAttr('fmod', 'int') ?? 0;
    if (fmod === 0 && tensorTypeOf(node.inputs[0])?.dtype === 'float32') return 'Mod of floats needs fmod=1 (ONNX)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const [x, y] = [node.input(0), node.input(1)];
    const type = node.output(0).type;
    const dtype = tensorTypeOf(x)!.dtype;
    const boolType = tensorType('bool', dimsOf(node.outputs[0]) ?? []);
    const fusible = { fused_activation_function: 'NONE' };
    if ((node.optionalAttr('fmod', 'int') ?? 0) === 0) {
      replaceNode(node, [emit.op1('FLOOR_MOD', [x, y], {}, type)]);
      return;
    }
    const zero = emit.constant(dtype === 'int64' ? Tensor.fromValues('int64', [], [0n]) : Tensor.fromValues(dtype, [], [0]), 'zero');
    let r: Value;
    if (dtype === 'float32') {
      const quotient = emit.op1('DIV', [x, y], fusible, type);
      const truncated = emit.op1('SELECT_V2', [emit.op1('LESS', [quotient, zero], {}, boolType), emit.op1('CEIL', [quotient], {}, type), emit.op1('FLOOR', [quotient], {}, type)], {}, type);
      r = emit.op1('SUB', [x, emit.op1('MUL', [y, truncated], fusible, type)], fusible, type);
    } else {
      const floored = emit.op1('FLOOR_MOD', [x, y], {}, type);
      const nonZero = emit.op1('NOT_EQUAL', [floored, zero], {}, boolType);
      // x's sign: LESS of x alone has x's shape (a scalar x broadcast against y), not the output's.
      const signsDiffer = emit.op1('NOT_EQUAL', [emit.op1('LESS', [floored, zero], {}, boolType), emit.op1('LESS', [x, zero], {}, tensorType('bool', dimsOf(x) ?? []))], {}, boolType);
      const moved = emit.op1('SUB', [floored, y], fusible, type);
      r = emit.op1('SELECT_V2', [emit.op1('LOGICAL_AND', [nonZero, signsDiffer], {}, boolType), moved, floored], {}, type);
    }
    replaceNode(node, [r]);
  },
};

export const modRules: readonly LoweringRule[] = [mod];
