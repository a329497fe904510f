import type { Node, Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { elementwiseInput, flattenProblem, type Composer } from './compose.js';

/**
 * Float math without a TFLite 2.9 builtin (no ASIN/ACOS/ATAN/TAN/SINH…; ATAN2 and SIGN came after
 * 2.9), written with EXP, LOG, SQRT, SIN, COS, DIV and SELECT_V2. Rank > 4 inputs run flattened.
 */

function float32Only(node: Node): string | undefined {
  const dtype = tensorTypeOf(node.inputs[0])?.dtype;
  if (dtype !== 'float32') return `${node.op} is lowered for float32 only (input is ${dtype ?? 'untyped'})`;
  return flattenProblem(node.inputs[0]);
}

/** A float32 unary op built by `build` on the (maybe flattened) input. */
function composedUnary(op: string, targets: readonly string[], build: (c: Composer, x: Value, node: Node) => Value): LoweringRule {
  return {
    ops: [`onnx.${op}`],
    stage: 'lower',
    targets: [...targets, 'RESHAPE'],
    check: float32Only,
    lower(node, context) {
      const emit = new TfliteEmitter(node, context);
      const { composer, x, restore } = elementwiseInput(node, emit, node.input(0), 'float32');
      replaceNode(node, [restore(build(composer, x, node))]);
    },
  };
}

/**
 * atan(x) for any float: |x| is reduced below tan(π/8) (t = −1/|x| above tan(3π/8) with π/2 added,
 * (|x|−1)/(|x|+1) between with π/4 added), then the odd polynomial of Cephes' atanf (float32
 * accuracy), and the sign put back.
 */
export function atan(c: Composer, x: Value): Value {
  const ax = c.unary('ABS', x);
  const big = c.compare('GREATER', ax, c.scalar(2.414213562373095));
  const mid = c.compare('GREATER', ax, c.scalar(0.4142135623730950));
  const one = c.scalar(1);
  const t = c.select(big, c.div(c.scalar(-1), ax), c.select(mid, c.div(c.sub(ax, one), c.add(ax, one)), ax));
  const offset = c.mul(c.add(c.cast(big, 'float32'), c.cast(mid, 'float32')), c.scalar(Math.PI / 4));
  const z = c.mul(t, t);
  let p = c.scalar(8.05374449538e-2);
  p = c.sub(c.mul(p, z), c.scalar(1.38776856032e-1));
  p = c.add(c.mul(p, z), c.scalar(1.99777106478e-1));
  p = c.sub(c.mul(p, z), c.scalar(3.33329491539e-1));
  const magnitude = c.add(offset, c.add(c.mul(c.mul(p, z), t), t));
  return c.select(c.compare('LESS', x, c.scalar(0)), c.unary('NEG', magnitude), magnitude);
}

/** asinh/acosh of t > 1e9 is log(2t) to float32 precision (the exact formula squares t and overflows past 1.8e19). */
function largeArgument(c: Composer, t: Value, exact: Value): Value {
  return c.select(c.compare('GREATER', t, c.scalar(1e9)), c.add(c.unary('LOG', t), c.scalar(Math.LN2)), exact);
}

const TRIG = ['ABS', 'GREATER', 'LESS', 'SELECT_V2', 'DIV', 'SUB', 'ADD', 'MUL', 'CAST', 'NEG'];

export const mathUnaryRules: readonly LoweringRule[] = [
  composedUnary('Atan', TRIG, atan),
  // asin(x) = atan(x / √((1−x)(1+x))): ±π/2 at ±1, NaN beyond.
  composedUnary('Asin', [...TRIG, 'SQRT'], (c, x) => {
    const one = c.scalar(1);
    return atan(c, c.div(x, c.unary('SQRT', c.mul(c.sub(one, x), c.add(one, x)))));
  }),
  // acos(x) = 2·atan(√((1−x)/(1+x))): accurate near 1, π at −1.
  composedUnary('Acos', [...TRIG, 'SQRT'], (c, x) => {
    const one = c.scalar(1);
    return c.mul(c.scalar(2), atan(c, c.unary('SQRT', c.div(c.sub(one, x), c.add(one, x)))));
  }),
  composedUnary('Tan', ['SIN', 'COS', 'DIV'], (c, x) => c.div(c.unary('SIN', x), c.unary('COS', x))),
  composedUnary('Sinh', ['EXP', 'NEG', 'SUB', 'MUL'], (c, x) => c.mul(c.sub(c.unary('EXP', x), c.unary('EXP', c.unary('NEG', x))), c.scalar(0.5))),
  composedUnary('Cosh', ['EXP', 'NEG', 'ADD', 'MUL'], (c, x) => c.mul(c.add(c.unary('EXP', x), c.unary('EXP', c.unary('NEG', x))), c.scalar(0.5))),
  // asinh is odd: log(|x| + √(x²+1)) with x's sign; log(2|x|) above 1e9, where x² would overflow.
  composedUnary('Asinh', ['ABS', 'MUL', 'ADD', 'SQRT', 'LOG', 'LESS', 'GREATER', 'NEG', 'SELECT_V2'], (c, x) => {
    const ax = c.unary('ABS', x);
    const magnitude = largeArgument(c, ax, c.unary('LOG', c.add(ax, c.unary('SQRT', c.add(c.mul(ax, ax), c.scalar(1))))));
    return c.select(c.compare('LESS', x, c.scalar(0)), c.unary('NEG', magnitude), magnitude);
  }),
  // acosh(x) = log(x + √((x−1)(x+1))), NaN below 1; log(2x) above 1e9.
  composedUnary('Acosh', ['SUB', 'ADD', 'MUL', 'SQRT', 'LOG', 'GREATER', 'SELECT_V2'], (c, x) => {
    const one = c.scalar(1);
    return largeArgument(c, x, c.unary('LOG', c.add(x, c.unary('SQRT', c.mul(c.sub(x, one), c.add(x, one))))));
  }),
  // atanh(x) = ½·log((1+x)/(1−x)).
  composedUnary('Atanh', ['ADD', 'SUB', 'DIV', 'LOG', 'MUL'], (c, x) => {
    const one = c.scalar(1);
    return c.mul(c.scalar(0.5), c.unary('LOG', c.div(c.add(one, x), c.sub(one, x))));
  }),
  // softsign(x) = x / (1 + |x|).
  composedUnary('Softsign', ['ABS', 'ADD', 'DIV'], (c, x) => c.div(x, c.add(c.scalar(1), c.unary('ABS', x)))),
  // shrink: x + bias below −lambd, x − bias above lambd, 0 between.
  composedUnary('Shrink', ['LESS', 'GREATER', 'ADD', 'SUB', 'SELECT_V2'], (c, x, node) => {
    const lambd = node.optionalAttr('lambd', 'float') ?? 0.5;
    const bias = node.optionalAttr('bias', 'float') ?? 0;
    const above = c.select(c.compare('GREATER', x, c.scalar(lambd)), c.sub(x, c.scalar(bias)), c.scalar(0));
    return c.select(c.compare('LESS', x, c.scalar(-lambd)), c.add(x, c.scalar(bias)), above);
  }),
];
