import type { Tensor } from '@modelpass/ir';
import { isSplat, shapeOf } from '../util/constants.js';
import { declined, definePattern, type TransformPattern } from './pattern.js';
import { broadcastKeepsShape, forwardOutput, splitConstantOperand } from './helpers.js';

interface NeutralElement {
  op: string;
  name: string;
  /** The element `e` with `x op e = x` exactly (or up to the sign of zero for `x + 0`). */
  neutral: number;
  commutative: boolean;
}

const neutralElements: readonly NeutralElement[] = [
  { op: 'onnx.Mul', name: 'mul-by-one', neutral: 1, commutative: true },
  { op: 'onnx.Add', name: 'add-zero', neutral: 0, commutative: true },
  { op: 'onnx.Sub', name: 'sub-zero', neutral: 0, commutative: false },
  { op: 'onnx.Div', name: 'div-by-one', neutral: 1, commutative: false },
  { op: 'onnx.Pow', name: 'pow-one', neutral: 1, commutative: false },
];

function neutralElementPattern(spec: NeutralElement): TransformPattern {
  return definePattern({
    name: spec.name,
    ops: [spec.op],
    statistic: 'nodes-removed',
    rewrite(node, rewriter, env) {
      const split = splitConstantOperand(node, spec.commutative);
      if (!split || !isSplat(split.constant, spec.neutral)) return false;
      const { variable, constant } = split;
      if (spec.op === 'onnx.Pow' && !sameDtype(variable, constant)) {
        return declined(env, spec.name, node, 'the exponent has another dtype than the base');
      }
      if (!broadcastKeepsShape(shapeOf(variable), constant.shape)) {
        return declined(env, spec.name, node, `the constant of shape [${constant.shape.join(',')}] may broadcast the other operand to a larger shape`);
      }
      return forwardOutput(node, variable, rewriter) || declined(env, spec.name, node, 'its output is a graph output that cannot be renamed');
    },
  });
}

function sameDtype(value: { type: { kind: string; dtype?: string } }, constant: Tensor): boolean {
  return value.type.kind === 'tensor' && value.type.dtype === constant.dtype;
}

/** `f(f(x)) = x` for involutions: Not, Neg. */
function involutionPattern(op: string, name: string): TransformPattern {
  return definePattern({
    name,
    ops: [op],
    statistic: 'nodes-removed',
    rewrite(node, rewriter) {
      const inner = node.inputs[0]?.producer;
      if (!inner || inner.op !== op) return false;
      return forwardOutput(node, inner.input(0), rewriter);
    },
  });
}

export const algebraicPatterns: readonly TransformPattern[] = [
  ...neutralElements.map(neutralElementPattern),
  involutionPattern('onnx.Not', 'double-not'),
  involutionPattern('onnx.Neg', 'double-neg'),
];
